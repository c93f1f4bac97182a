import Foundation

/// Where the password comes from, in this order: `CHAT_PASSWORD`, `--password-file`, or a prompt
/// on the terminal without echo. Never a command-line argument, which other users can read.
enum PasswordSource {
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether ``password(file:environment:prompt:)`` will ask on the terminal (neither
    /// `CHAT_PASSWORD` nor a file gives it): only a typed password may be asked for again.
    static func willPrompt(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        (environment["CHAT_PASSWORD"] ?? "").isEmpty && file == nil
    }

    static func password(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                         prompt: String) throws -> String {
        if let password = environment["CHAT_PASSWORD"], !password.isEmpty { return password }
        if let file {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw Unavailable(description: "cannot read the password file \(file)")
            }
            // The first line, as `chatd user add` reads it: a trailing newline is not part of it.
            return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
        return try promptWithoutEcho(prompt)
    }

    /// Asks a yes/no question on the controlling terminal; only `y` or `yes` is yes. No terminal: no.
    static func confirm(_ question: String) -> Bool {
        let tty = open("/dev/tty", O_RDWR)
        guard tty >= 0 else { return false }
        defer { close(tty) }
        _ = question.withCString { write(tty, $0, strlen($0)) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        let answer = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }

    /// Writes to the controlling terminal (where the prompt was), or standard error without one.
    static func say(_ text: String) {
        let tty = open("/dev/tty", O_WRONLY)
        guard tty >= 0 else {
            FileHandle.standardError.write(Data(text.utf8))
            return
        }
        _ = text.withCString { write(tty, $0, strlen($0)) }
        close(tty)
    }

    /// Reads one line from the controlling terminal with echo off, restoring the terminal after.
    static func promptWithoutEcho(_ prompt: String) throws -> String {
        let tty = open("/dev/tty", O_RDWR)
        guard tty >= 0 else {
            throw Unavailable(description: "no password: set CHAT_PASSWORD, use --password-file, or run on a terminal")
        }
        defer { close(tty) }
        var saved = termios()
        tcgetattr(tty, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ICANON)
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}

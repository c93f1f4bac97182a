import ArgumentParser
import Foundation
import Shared

/// `chat-tui send [--to USER] [TEXT|-]`: one message, sent once the server has stored it. Without
/// TEXT, or with `-`, the message is standard input (`make 2>&1 | tail -5 | chat-tui send`): one
/// message, never split, so a text over the server's limit is an error that names the limit.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send",
                                                    abstract: "Send one message (TEXT, or standard input) and exit once it is stored.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Send a direct message to this user instead of the broadcast channel")
    var to: String?

    @Argument(help: "The message; without it, or '-', standard input")
    var text: String?

    /// The message: the argument, or standard input without its final line end.
    static func message(argument: String?, readInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() })
        throws(ChatAPIError) -> String {
        if let argument, argument != "-" { return argument }
        guard let text = String(data: readInput(), encoding: .utf8) else {
            throw .local("standard input is not UTF-8 text")
        }
        var message = Substring(text)
        while message.hasSuffix("\n") || message.hasSuffix("\r\n") { message = message.dropLast() }
        return String(message)
    }

    func run() async throws {
        try await runScript {
            let text = try Self.message(argument: text)
            try await connection.withSession { api, session in
                let clientID = "chat-tui-send-\(UUID().uuidString.prefix(12))"
                let frame: ClientFrame = if let to {
                    .direct(to: to, message: text, clientID: clientID)
                } else {
                    .broadcast(message: text, clientID: clientID)
                }
                let outcome = LockedValue<SendOutcome?>(nil)
                try await ChatSocket.run(endpoint: api.endpoint, token: session.token, tlsConfiguration: api.tlsConfiguration, logger: quietLogger) { frames, sender in
                    var sent = false
                    while let received = try await frames.next() {
                        switch received {
                        case .welcome(let welcome) where !sent:
                            if case .failure(let error) = MessageText.validate(text, maxScalars: welcome.limits.messageChars) {
                                outcome.value = .refused(error.code, "not sent: \(error.message) (one message is never split)")
                                return
                            }
                            sent = true
                            try await sender.send(frame)
                        case .message(let message) where message.clientID == clientID:
                            outcome.value = .stored(message.id)
                            return
                        case .error(let code, let message, let id) where id == clientID || (id == nil && sent):
                            outcome.value = .refused(code, message)
                            return
                        default:
                            continue
                        }
                    }
                }
                switch outcome.value {
                case .stored?:
                    return
                case .refused(let code, let message)?:
                    FileHandle.standardError.write(Data("chat-tui: \(message)\n".utf8))
                    throw ExitCode(code == .unknownUser ? 4 : 1)
                case nil:
                    throw ChatAPIError.unreachable("the server closed the connection before storing the message")
                }
            }
        }
    }
}

/// What became of the message `send` sent.
enum SendOutcome: Sendable {
    case stored(Int64)
    case refused(ErrorCode, String)
}

/// `chat-tui files`: the file area, one file a line.
struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "files", abstract: "List the shared files: size, owner, upload time, name.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await runScript {
            try await connection.withSession { api, session in
                for file in try await api.files(token: session.token) {
                    print(file.scriptLine)
                }
            }
        }
    }
}

/// `chat-tui upload PATH [NAME]`.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upload", abstract: "Upload a file (replaces your own file of that name).")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The local file")
    var path: String

    @Argument(help: "The name in the file area. Default: the local file's name")
    var name: String?

    func run() async throws {
        try await runScript {
            try await connection.withSession { api, session in
                let file = try await api.upload(path, as: name ?? (path as NSString).lastPathComponent, token: session.token)
                print(file.scriptLine)
            }
        }
    }
}

/// `chat-tui download NAME [PATH]`.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "download", abstract: "Download a file; PATH '-' writes to standard output.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The name in the file area")
    var name: String

    @Argument(help: "Where to write it. Default: the name, in the current directory")
    var path: String?

    func run() async throws {
        try await runScript {
            try await connection.withSession { api, session in
                _ = try await api.download(name, to: path ?? name, token: session.token)
            }
        }
    }
}

/// `chat-tui delete NAME`.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one of your files.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The name in the file area")
    var name: String

    func run() async throws {
        try await runScript {
            try await connection.withSession { api, session in
                try await api.delete(name, token: session.token)
            }
        }
    }
}

extension FileInfo {
    /// A file as `files` and `upload` print it: size, owner, upload time, name, tab-separated.
    var scriptLine: String { "\(size)\t\(owner)\t\(uploadedAt)\t\(name)" }
}

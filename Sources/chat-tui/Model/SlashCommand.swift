import Shared

/// A line of input that starts with `/`, parsed. `//text` is not a command: it sends `/text`, the
/// IRC way to start a message with a slash.
enum SlashCommand: Equatable, Sendable {
    case msg(user: String, text: String)
    case query(user: String)
    case close
    case files
    /// `nil`: ask for the path in a prompt.
    case upload(path: String?)
    /// `nil` destination: the file's own name in the current directory.
    case download(name: String, destination: String?)
    case delete(name: String)
    case users
    case help
    case quit
    /// `/me waves`: sent as `* alice waves`, which every client can read.
    case me(action: String)
    /// Clears the current tab's scrollback on screen; the server keeps it.
    case clear
    /// `/url`: the current chat's URLs, numbered newest first; `/url N`: the Nth, whole.
    case url(number: Int?)
    /// `/joins on|off`: join and leave lines in the Broadcast tab; `nil` toggles.
    case joins(Bool?)
    /// Hides or shows the users pane (Alt-N).
    case nicklist

    /// The names, in the order help and completion list them.
    static let names = ["msg", "query", "me", "close", "clear", "url", "files", "upload", "download", "delete", "users",
                        "nicklist", "joins", "help", "quit"]

    /// Other names for a command, as irssi and weechat users type them.
    static let aliases = ["open": "url"]

    /// One line per command, for `/help` and usage errors.
    static let usage: [String: String] = [
        "msg": "/msg USER TEXT — send USER a direct message",
        "me": "/me ACTION — say what you do: '* alice waves'",
        "clear": "/clear — clear this tab's messages on screen (the server keeps them)",
        "url": "/url [N] — list this chat's links, or show link N whole (alias /open)",
        "nicklist": "/nicklist — hide or show the users pane (Alt-N)",
        "joins": "/joins on|off — show or hide join and leave lines",
        "query": "/query USER — open the direct chat with USER",
        "close": "/close — close the current direct chat",
        "files": "/files — show the shared files (F3)",
        "upload": "/upload [PATH] — upload a local file",
        "download": "/download NAME [PATH] — download a file (quote names with spaces)",
        "delete": "/delete NAME — delete one of your files",
        "users": "/users — refresh the user list and select it (F2)",
        "help": "/help — keys and commands (F1)",
        "quit": "/quit — leave (Ctrl-C)",
    ]

    /// Whether `line` is a command rather than a message.
    static func isCommand(_ line: String) -> Bool {
        line.hasPrefix("/") && !line.hasPrefix("//")
    }

    /// Parses a command line.
    /// - Parameter isFileName: whether a name exists in the file area, so that
    ///   `/download my file.txt` downloads `my file.txt` when that file exists, without quotes.
    static func parse(_ line: String, isFileName: (String) -> Bool = { _ in false }) -> Result<SlashCommand, ProtocolError> {
        let body = line.dropFirst()
        let nameEnd = body.firstIndex(where: \.isWhitespace) ?? body.endIndex
        let typed = body[..<nameEnd].lowercased()
        let name = aliases[typed] ?? typed
        let rest = String(body[nameEnd...].drop(while: \.isWhitespace))
        let arguments = rest.trimmingTrailingWhitespace()

        func usageError() -> Result<SlashCommand, ProtocolError> {
            .failure(ProtocolError(.badRequest, "usage: \(usage[name] ?? "/\(name)")"))
        }

        switch name {
        case "msg":
            let userEnd = rest.firstIndex(where: \.isWhitespace) ?? rest.endIndex
            let user = String(rest[..<userEnd])
            // The text keeps its inner newlines and spacing; MessageText trims the ends later.
            let text = String(rest[userEnd...].drop(while: { $0 == " " }))
            guard !user.isEmpty, !text.trimmingTrailingWhitespace().isEmpty else { return usageError() }
            return checkedUser(user).map { .msg(user: $0, text: text) }
        case "query":
            guard !arguments.isEmpty, !arguments.contains(where: \.isWhitespace) else { return usageError() }
            return checkedUser(arguments).map { .query(user: $0) }
        case "me":
            guard !arguments.isEmpty else { return usageError() }
            return .success(.me(action: arguments))
        case "clear": return .success(.clear)
        case "nicklist": return .success(.nicklist)
        case "url":
            guard !arguments.isEmpty else { return .success(.url(number: nil)) }
            guard let number = Int(arguments), number > 0 else { return usageError() }
            return .success(.url(number: number))
        case "joins":
            switch arguments.lowercased() {
            case "": return .success(.joins(nil))
            case "on": return .success(.joins(true))
            case "off": return .success(.joins(false))
            default: return usageError()
            }
        case "close": return .success(.close)
        case "files": return .success(.files)
        case "users": return .success(.users)
        case "help": return .success(.help)
        case "quit": return .success(.quit)
        case "upload":
            return .success(.upload(path: arguments.isEmpty ? nil : unquoted(arguments)))
        case "delete":
            guard !arguments.isEmpty else { return usageError() }
            return .success(.delete(name: unquoted(arguments)))
        case "download":
            guard !arguments.isEmpty else { return usageError() }
            if isFileName(arguments) { return .success(.download(name: arguments, destination: nil)) }
            let words = splitArguments(arguments)
            guard (1...2).contains(words.count) else { return usageError() }
            return .success(.download(name: words[0], destination: words.count == 2 ? words[1] : nil))
        case "":
            return .failure(ProtocolError(.badRequest, "type a command after / (see /help), or // to start a message with /"))
        default:
            return .failure(ProtocolError(.badRequest, "unknown command /\(typed) (see /help; // sends a message starting with /)"))
        }
    }

    private static func checkedUser(_ name: String) -> Result<String, ProtocolError> {
        Username.validate(name).mapError { ProtocolError(.badRequest, "'\(name)' is not a user name: \($0.message)") }
    }

    /// The argument without the double quotes around it, if it has them.
    static func unquoted(_ argument: String) -> String {
        let words = splitArguments(argument)
        return argument.hasPrefix("\"") && words.count == 1 ? words[0] : argument
    }

    /// Splits on white space, keeping "quoted parts" (with `\"` and `\\` escapes) as one argument.
    static func splitArguments(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character.isWhitespace && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// `name` written so that ``splitArguments(_:)`` reads it back as one argument.
    static func quotedIfNeeded(_ name: String) -> String {
        guard name.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "\\" }) || name.isEmpty else { return name }
        var result = "\""
        for character in name {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }
}

extension StringProtocol {
    func trimmingTrailingWhitespace() -> String {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return String(self[..<end])
    }
}

import ArgumentParser
import Foundation

/// `chat-tui`: the terminal client: a full-screen chat with the shared file list, and subcommands
/// for scripts.
@main
struct ChatTUI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-tui",
        abstract: "The chatd terminal client.",
        subcommands: [InteractiveCommand.self, SendCommand.self, FilesCommand.self, UploadCommand.self,
                      DownloadCommand.self, DeleteCommand.self],
        defaultSubcommand: InteractiveCommand.self)

    /// The subcommands' names, and ArgumentParser's own `help`.
    static var commandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
    }

    /// Parses and runs, after one check of ours: a first argument that is not an option must be
    /// a command. ArgumentParser would otherwise hand `chat-tui sned hi` to the default command
    /// and complain of two unexpected arguments, which does not say what went wrong.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-"), !commandNames.contains(first) {
            let commands = commandNames.filter { $0 != "help" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("""
                chat-tui: unknown command '\(first)'
                commands: \(commands) (interactive is the default); see chat-tui --help

                """.utf8))
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The full-screen client (the default command).
struct InteractiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "interactive", abstract: "The full-screen client (the default).")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Hide join and leave lines in the Broadcast tab (CHAT_TUI_JOIN_LINES=0; /joins on|off)")
    var noJoinLines = false

    /// Join lines unless `--no-join-lines` or `CHAT_TUI_JOIN_LINES` is `0`, `off` or `no`.
    var showJoinLines: Bool {
        let setting = ProcessInfo.processInfo.environment["CHAT_TUI_JOIN_LINES"]?.lowercased() ?? ""
        return !noJoinLines && !["0", "off", "no", "false"].contains(setting)
    }

    func run() async throws {
        // Log in before taking over the screen: the password prompt needs the plain terminal.
        try await runScript {
            try await connection.withSession(askToRegister: true) { api, session in
                await InteractiveSession(api: api, session: session, showJoinLines: showJoinLines).run()
            }
        }
    }
}

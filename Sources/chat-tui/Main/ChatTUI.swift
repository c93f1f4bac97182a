import ArgumentParser

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
}

/// The full-screen client (the default command).
struct InteractiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "interactive", abstract: "The full-screen client (the default).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        // Log in before taking over the screen: the password prompt needs the plain terminal.
        try await runScript {
            try await connection.withSession { api, session in
                await InteractiveSession(api: api, session: session).run()
            }
        }
    }
}

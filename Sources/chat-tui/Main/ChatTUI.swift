import ArgumentParser

/// `chat-tui`: the terminal client. The script subcommands work; the interactive client (the
/// default command) is being built.
@main
struct ChatTUI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-tui",
        abstract: "The chatd terminal client.",
        subcommands: [InteractiveCommand.self, SendCommand.self, FilesCommand.self, UploadCommand.self,
                      DownloadCommand.self, DeleteCommand.self],
        defaultSubcommand: InteractiveCommand.self)
}

/// The full-screen client (the default command). Not usable yet.
struct InteractiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "interactive", abstract: "The full-screen client (in development).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        throw ValidationError("the interactive client is still being built; the send, files, upload, download and delete subcommands work")
    }
}

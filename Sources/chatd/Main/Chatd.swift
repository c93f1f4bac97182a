import ArgumentParser
import ChatCore

/// The `chatd` command: `serve` (the default) runs the server, `user` manages accounts,
/// `backup` copies the data directory while the server runs, `check-config` checks the settings.
@main
struct Chatd: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "chatd",
        abstract: "Self-hosted chat and file sharing for small teams.",
        version: version,
        subcommands: [ServeCommand.self, UserCommand.self, BackupCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self)
}

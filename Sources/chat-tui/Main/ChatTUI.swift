import ArgumentParser

/// `chat-tui`: the terminal client. Only the command line exists so far; the interactive client
/// and the script subcommands are being built (see the README's status line).
@main
struct ChatTUI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-tui",
        abstract: "The chatd terminal client (in development: not usable yet).")

    @Option(help: "The chatd server. Default: http://127.0.0.1:8010")
    var server = "http://127.0.0.1:8010"

    func run() async throws {
        throw ValidationError("chat-tui is not usable yet: the interactive client is still being built")
    }
}

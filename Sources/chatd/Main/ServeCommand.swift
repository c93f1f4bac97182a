import ArgumentParser
import ChatCore
import Foundation
import Logging
import Shared

/// `chatd serve`: runs the server. Every option also reads a `CHATD_*` environment variable and
/// a config-file key of the same name; a flag beats the environment, which beats the file, which
/// beats the default.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the chat server (the default command).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let config: ServerConfig
        do {
            config = try options.resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("chatd: \(error)\n".utf8))
            // The status ArgumentParser gives an unknown flag: a bad value is the same mistake.
            throw ExitCode.validationFailure
        }
        do {
            try await ChatServer.run(config: config)
        } catch {
            FileHandle.standardError.write(Data("chatd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging

/// The options every mode shares: which server, which user, where the password comes from.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The chatd server. Default: http://127.0.0.1:8010")
    var server = "http://127.0.0.1:8010"

    @Option(help: "Your user name (CHAT_USER). Default: your login name")
    var user: String?

    @Option(help: "Read the password from the first line of this file (otherwise CHAT_PASSWORD, else a prompt)")
    var passwordFile: String?

    var endpoint: ServerEndpoint {
        get throws { try ServerEndpoint(server) }
    }

    var userName: String {
        let environment = ProcessInfo.processInfo.environment
        return user ?? environment["CHAT_USER"] ?? environment["USER"] ?? NSUserName()
    }

    /// Logs in (or reuses the cached token) and runs `body` with the API and the token.
    func withSession<T>(_ body: (ChatAPI, Login.Result) async throws -> T) async throws -> T {
        let api = ChatAPI(endpoint: try endpoint, client: HTTPClient.shared)
        let session = try await Login(api: api, cache: TokenCache()).token(user: userName, passwordFile: passwordFile)
        return try await body(api, session)
    }
}

/// Runs a script subcommand: its failure is one line on stderr and the exit status of chat-tui(1).
func runScript(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ChatAPIError {
        FileHandle.standardError.write(Data("chat-tui: \(error)\n".utf8))
        throw ExitCode(error.exitStatus)
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("chat-tui: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// A logger for the libraries that want one; the terminal client prints its own errors.
let quietLogger = Logger(label: "chat-tui") { _ in SwiftLogNoOpLogHandler() }

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOSSL

/// The options every mode shares: which server, which user, where the password comes from.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The chatd server. Default: http://127.0.0.1:8010")
    var server = "http://127.0.0.1:8010"

    @Option(help: "Your user name (CHAT_USER). Default: your login name")
    var user: String?

    @Option(help: "Read the password from the first line of this file (otherwise CHAT_PASSWORD, else a prompt)")
    var passwordFile: String?

    @Option(help: "PEM file of the CA that signed an https:// server's certificate (a private CA). Default: the system's trust store")
    var caFile: String?

    var endpoint: ServerEndpoint {
        get throws { try ServerEndpoint(server) }
    }

    var userName: String {
        let environment = ProcessInfo.processInfo.environment
        return user ?? environment["CHAT_USER"] ?? environment["USER"] ?? NSUserName()
    }

    /// Logs in (or reuses the cached token) and runs `body` with the API and the token.
    ///
    /// With `--ca-file` the API gets an HTTP client of its own that trusts that CA, shut down
    /// when `body` is done; otherwise the shared client, which trusts the system store.
    func withSession<T>(_ body: (ChatAPI, Login.Result) async throws -> T) async throws -> T {
        let endpoint = try endpoint
        let tls: TLSConfiguration?
        do {
            tls = try ServerTrust(caFile: caFile).tlsConfiguration()
        } catch {
            throw ChatAPIError.local(error.description)
        }
        guard let tls else {
            return try await withSession(ChatAPI(endpoint: endpoint, client: HTTPClient.shared), body)
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let result = try await withSession(ChatAPI(endpoint: endpoint, client: client, tlsConfiguration: tls), body)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func withSession<T>(_ api: ChatAPI, _ body: (ChatAPI, Login.Result) async throws -> T) async throws -> T {
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

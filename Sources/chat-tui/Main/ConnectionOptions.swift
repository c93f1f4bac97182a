import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOSSL

/// The options every mode shares: which server, which user, where the password comes from.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The chatd server, http:// or https://")
    var server = "http://127.0.0.1:8010"

    @Option(help: "Your user name (CHAT_USER). Default: your login name")
    var user: String?

    @Option(help: "Read the password from the first line of this file (otherwise CHAT_PASSWORD, else a prompt)")
    var passwordFile: String?

    @Option(help: "PEM file of the CA that signed an https:// server's certificate (a private CA). Default: the system's trust store")
    var caFile: String?

    @Flag(help: "Create the account if the name has none (open registration). Without it a mistyped --user fails")
    var register = false

    var endpoint: ServerEndpoint {
        get throws { try ServerEndpoint(server) }
    }

    var userName: String {
        let environment = ProcessInfo.processInfo.environment
        return user ?? environment["CHAT_USER"] ?? environment["USER"] ?? NSUserName()
    }

    /// Logs in (or reuses the cached token) and runs `body` with the API and the token.
    ///
    /// The API gets an HTTP client of its own, shut down when `body` is done: it trusts the CA of
    /// `--ca-file` if given (else the system store), and a connection that cannot be made fails
    /// its request at once. AsyncHTTPClient would otherwise retry the connection until the
    /// request's 30 s timeout, so a server that is down or a certificate that does not verify
    /// would be reported only then; the interactive client reconnects by itself anyway.
    /// - Parameter askToRegister: on a terminal, offer to create an account the name does not
    ///   have (the full-screen client); scripts fail instead.
    func withSession<T>(askToRegister: Bool = false, _ body: (ChatAPI, Login.Result) async throws -> T) async throws -> T {
        let endpoint = try endpoint
        let tls: TLSConfiguration?
        do {
            tls = try ServerTrust(caFile: caFile).tlsConfiguration()
        } catch {
            throw ChatAPIError.local(error.description)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let api = ChatAPI(endpoint: endpoint, client: client, tlsConfiguration: tls)
            let session = try await Login(api: api, cache: TokenCache())
                .token(user: userName, passwordFile: passwordFile, register: register, askToRegister: askToRegister)
            let result = try await body(api, session)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
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

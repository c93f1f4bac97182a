import Foundation
import Shared

/// Gets a token for a user on a server: the cached one if the server still accepts it, otherwise
/// a login with the password, whose token is then cached for the next start.
///
/// A login never creates an account by accident: it says `"register": false` unless the user
/// passed `--register`, so a mistyped `--user` under open registration fails with `no_account`
/// instead of becoming a new account. The full-screen client then asks whether to create it; a
/// script fails with ``ChatAPIError/noAccount(user:server:)``. A password typed at the prompt may
/// be wrong: it is asked again, three tries in all, as sudo does.
struct Login: Sendable {
    let api: ChatAPI
    let cache: TokenCache

    struct Result: Sendable {
        let token: String
        /// The name as the server spells it.
        let username: String
    }

    /// Password prompts before giving up, as sudo.
    static let promptTries = 3

    /// - Parameters:
    ///   - register: the user asked for a new account (`--register`).
    ///   - askToRegister: on a terminal, asks before creating an account for an unknown name
    ///     (the full-screen client); `false` for scripts.
    func token(user: String, passwordFile: String?, register: Bool = false, askToRegister: Bool = false,
               environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Result {
        if let cached = cache.token(server: api.endpoint, user: user) {
            if let name = try await api.me(token: cached) {
                return Result(token: cached, username: name)
            }
            cache.forget(server: api.endpoint, user: user)
        }
        let prompted = PasswordSource.willPrompt(file: passwordFile, environment: environment)
        if prompted { try await api.probe() }
        let response = try await logIn(user: user, passwordFile: passwordFile, register: register, askToRegister: askToRegister,
                                       prompted: prompted, environment: environment)
        do {
            try cache.store(response.token, server: api.endpoint, user: user)
        } catch {
            FileHandle.standardError.write(Data("chat-tui: cannot cache the login token under \(cache.directory): \(error)\n".utf8))
        }
        return Result(token: response.token, username: response.username)
    }

    /// The login itself: a typed password that is wrong is asked again (``promptTries`` in all),
    /// and an unknown name becomes an account only when the user asked for one.
    private func logIn(user: String, passwordFile: String?, register: Bool, askToRegister: Bool, prompted: Bool,
                       environment: [String: String]) async throws -> LoginResponse {
        for tries in 1... {
            let password = try PasswordSource.password(file: passwordFile, environment: environment,
                                                       prompt: "Password for \(user) at \(api.endpoint.base): ")
            switch await attempt(user: user, password: password, register: register) {
            case .success(let response):
                return response
            case .failure(.server(401, "no_account", _)) where !register:
                guard askToRegister,
                      PasswordSource.confirm("No account '\(user)' at \(api.endpoint.base) — create it? [y/N] ") else {
                    throw ChatAPIError.noAccount(user: user, server: api.endpoint.base)
                }
                return try await api.login(username: user, password: password, register: true)
            case .failure(.server(401, _, _)) where prompted && tries < Self.promptTries:
                PasswordSource.say("Sorry, try again.\n")
            case .failure(let error):
                throw error
            }
        }
        preconditionFailure("the loop returns or throws")
    }

    private func attempt(user: String, password: String, register: Bool) async -> Swift.Result<LoginResponse, ChatAPIError> {
        do {
            return .success(try await api.login(username: user, password: password, register: register))
        } catch {
            return .failure(error)
        }
    }
}

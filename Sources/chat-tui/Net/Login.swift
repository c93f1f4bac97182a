import Foundation

/// Gets a token for a user on a server: the cached one if the server still accepts it, otherwise
/// a login with the password, whose token is then cached for the next start.
struct Login: Sendable {
    let api: ChatAPI
    let cache: TokenCache

    struct Result: Sendable {
        let token: String
        /// The name as the server spells it.
        let username: String
    }

    func token(user: String, passwordFile: String?) async throws -> Result {
        if let cached = cache.token(server: api.endpoint, user: user) {
            if let name = try await api.me(token: cached) {
                return Result(token: cached, username: name)
            }
            cache.forget(server: api.endpoint, user: user)
        }
        let password = try PasswordSource.password(file: passwordFile, prompt: "Password for \(user) at \(api.endpoint.base): ")
        let response = try await api.login(username: user, password: password)
        do {
            try cache.store(response.token, server: api.endpoint, user: user)
        } catch {
            FileHandle.standardError.write(Data("chat-tui: cannot cache the login token under \(cache.directory): \(error)\n".utf8))
        }
        return Result(token: response.token, username: response.username)
    }
}

import Foundation

/// The login token kept between runs, so that only the first start asks for a password: one file
/// per server and user under `$XDG_CONFIG_HOME/chat-tui/` (or `~/.config/chat-tui/`), readable by
/// the user alone (directory 0700, file 0600).
struct TokenCache: Sendable {
    let directory: String

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        directory = base + "/chat-tui"
    }

    func path(server: ServerEndpoint, user: String) -> String {
        "\(directory)/\(server.cacheKey)_\(user.lowercased()).token"
    }

    func token(server: ServerEndpoint, user: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(server: server, user: user)),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty else { return nil }
        return token
    }

    /// Writes the token through a temporary file created 0600, then renames it into place: the
    /// token is never readable by others, not even for a moment.
    func store(_ token: String, server: ServerEndpoint, user: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
        let target = path(server: server, user: user)
        let temporary = target + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary]) }
        let bytes = Array(token.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, target) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target])
        }
    }

    func forget(server: ServerEndpoint, user: String) {
        unlink(path(server: server, user: user))
    }
}

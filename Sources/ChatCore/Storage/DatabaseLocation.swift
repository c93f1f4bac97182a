import Foundation

/// Where accounts, messages and file records live: the embedded SQLite file in the data
/// directory (one node), or a PostgreSQL server that several nodes share as store and bus.
package enum DatabaseLocation: Sendable, Equatable {
    case sqlite
    case postgres(Postgres)

    /// A parsed `postgres://` URL. The password is kept apart so that a printed location never shows it.
    package struct Postgres: Sendable, Equatable, CustomStringConvertible {
        package enum TLSMode: String, Sendable, CaseIterable {
            case disable, prefer, require
        }

        package var host: String
        package var port: Int
        package var username: String
        package var password: String?
        package var database: String
        package var tls: TLSMode

        package var description: String {
            "postgres://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        }
    }

    /// `sqlite`, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]` (also
    /// `postgresql://`), as libpq writes it. Percent-escapes in the user and password are decoded.
    package init(parsing text: String, option: String) throws(InvalidSetting) {
        if text.lowercased() == "sqlite" {
            self = .sqlite
            return
        }
        let usage = "expected sqlite or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw .init(description: "\(option): \(usage), got '\(Self.redacted(text))'")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .init(description: "\(option): no host in '\(Self.redacted(text))' (\(usage))")
        }
        guard let username = components.user, !username.isEmpty else {
            throw .init(description: "\(option): no user in '\(Self.redacted(text))' (\(usage))")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .init(description: "\(option): no database name in '\(Self.redacted(text))' (\(usage))")
        }
        var tls = Postgres.TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw .init(description: "\(option): unknown parameter '\(item.name)' (only sslmode is understood)")
            }
            guard let mode = item.value.flatMap(Postgres.TLSMode.init(rawValue:)) else {
                throw .init(description: "\(option): sslmode must be disable, prefer or require, got '\(item.value ?? "")'")
            }
            tls = mode
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw .init(description: "\(option): port must be 1-65535, got \(port)")
        }
        self = .postgres(Postgres(
            host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port,
            username: components.user?.removingPercentEncoding ?? username,
            password: components.password?.removingPercentEncoding, database: database, tls: tls))
    }

    /// The text with any password replaced by `***`, for error messages and logs.
    package static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "***"
    }
}

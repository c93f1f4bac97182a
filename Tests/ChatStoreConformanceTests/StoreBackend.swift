import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Testing
@testable import ChatCore
import ChatStorePostgres
import ChatStoreSQLite
import ChatTestSupport

/// The two backends every conformance case runs against. Each case is written once and takes a
/// `StoreBackend` argument, so a rule one store enforces and the other forgets fails exactly the
/// other's case.
///
/// `.sqlite` is what one node runs: the SQLite stores, with the lockout and rate buckets kept in
/// this process (``LocalLoginGuard``, ``RateLimiter``). `.postgres` is what a cluster runs: the
/// PostgreSQL stores, ``PostgresLoginGuard`` and ``PostgresRateLimiter``, on a database of its own
/// created for the case on the server named by `CHATD_TEST_POSTGRES` and dropped after it.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The environment variable that names the PostgreSQL server: a URL of a role that may
    /// `CREATE DATABASE`, e.g. `postgres://chatd@127.0.0.1:5432/postgres`.
    static let postgresVariable = "CHATD_TEST_POSTGRES"

    /// Opens fresh, empty stores of this backend for `body`, and throws them away after it, also
    /// when it throws.
    func withStores<Result: Sendable>(_ body: (Stores) async throws -> Result) async throws -> Result {
        switch self {
        case .sqlite:
            let directory = makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = try SQLiteDatabase(dataDirectory: directory, logger: quietLogger)
            defer { try? database.close() }
            return try await body(Stores(
                backend: self, accounts: SQLiteAccountStore(database: database), messages: SQLiteMessageStore(database: database),
                files: SQLiteFileCatalog(database: database), postgres: nil))
        case .postgres:
            let scratch = try await PostgresScratch.create()
            let result: Swift.Result<Result, any Error>
            do {
                let database = try await ChatStorePostgres.PostgresDatabase.open(scratch.location, logger: quietLogger)
                do {
                    result = .success(try await body(Stores(
                        backend: self, accounts: PostgresAccountStore(database: database),
                        messages: PostgresMessageStore(database: database), files: PostgresFileCatalog(database: database),
                        postgres: database)))
                } catch {
                    result = .failure(error)
                }
                database.close()
            } catch {
                result = .failure(error)
            }
            await scratch.drop()
            return try result.get()
        }
    }
}

/// One backend's stores for one case, and its shared-state implementations.
struct Stores: Sendable {
    let backend: StoreBackend
    let accounts: any AccountStore
    let messages: any MessageStore
    let files: any FileCatalog
    /// The case's PostgreSQL database (`nil` for SQLite): where the cluster keeps lockouts and buckets.
    let postgres: ChatStorePostgres.PostgresDatabase?

    /// The lockout this backend's server uses, with these policies.
    func loginGuard(name: LoginThrottle.Policy, address: LoginThrottle.Policy) -> any LoginGuard {
        if let postgres {
            return PostgresLoginGuard(database: postgres, namePolicy: name, addressPolicy: address)
        }
        return LocalLoginGuard(LoginThrottle(namePolicy: name, addressPolicy: address))
    }

    /// The message rate limit this backend's server uses, at this rate.
    func rateLimit(_ rate: RateLimiter.Rate) -> any MessageRateLimit {
        if let postgres {
            return PostgresRateLimiter(database: postgres, rate: rate)
        }
        return RateLimiter(rate: rate)
    }
}

/// Why a PostgreSQL case cannot run: said as what to do about it.
struct ConformanceSetupError: Error, CustomStringConvertible {
    let description: String
}

/// A database of its own for one PostgreSQL case on the server `CHATD_TEST_POSTGRES` names:
/// created empty, migrated by `PostgresDatabase.open` like a node's, dropped after.
struct PostgresScratch: Sendable {
    let server: DatabaseLocation.Postgres
    let location: DatabaseLocation.Postgres

    /// Fails, never skips, without the variable: a PostgreSQL case that did not run must not
    /// look like one that passed.
    static func serverLocation() throws -> DatabaseLocation.Postgres {
        guard let url = ProcessInfo.processInfo.environment[StoreBackend.postgresVariable], !url.isEmpty else {
            throw ConformanceSetupError(description: """
                \(StoreBackend.postgresVariable) is not set: the PostgreSQL half of the store conformance suite needs a \
                server. Run `python3 -m pytest Tests/e2e/test_store_conformance.py` (it starts a throwaway PostgreSQL and \
                sets the variable), or set \(StoreBackend.postgresVariable)=postgres://USER@HOST:PORT/postgres (a role \
                that may CREATE DATABASE) and run `swift test --skip-build --filter StoreConformance`.
                """)
        }
        guard case .postgres(let location) = try DatabaseLocation(parsing: url, option: StoreBackend.postgresVariable) else {
            throw ConformanceSetupError(description: "\(StoreBackend.postgresVariable) must be a postgres:// URL, got sqlite")
        }
        return location
    }

    static func create() async throws -> PostgresScratch {
        let server = try serverLocation()
        var location = server
        location.database = "chatd_conformance_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(location.database)\""), logger: quietLogger)
        }
        return PostgresScratch(server: server, location: location)
    }

    /// Drops the database even while the closed pool's connections are still going away.
    func drop() async {
        try? await Self.admin(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(location.database)\" WITH (FORCE)"),
                                       logger: quietLogger)
        }
    }

    /// One connection to the server's own database (the URL's), for CREATE and DROP DATABASE,
    /// which cannot run inside the database they make or remove.
    private static func admin(_ server: DatabaseLocation.Postgres, _ body: (PostgresConnection) async throws -> Void) async throws {
        let tls: PostgresConnection.Configuration.TLS = switch server.tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        let configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password,
            database: server.database, tls: tls)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: quietLogger)
        } catch {
            throw ConformanceSetupError(description: "cannot connect to \(server) (\(StoreBackend.postgresVariable)): "
                                        + ChatStorePostgres.PostgresDatabase.describe(error))
        }
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw ConformanceSetupError(description: "on \(server): " + ChatStorePostgres.PostgresDatabase.describe(error))
        }
        try await connection.close()
    }
}

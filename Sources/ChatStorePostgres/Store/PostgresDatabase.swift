import ChatCore
import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The PostgreSQL database that cluster nodes share: a connection pool, the schema's
/// migrations, and the advisory locks that order what nodes do concurrently.
///
/// The pool runs in a task of its own from ``open(_:logger:)`` to ``close()``, so that every
/// store can use it from the first query on (the schema is migrated before anything else runs).
package final class PostgresDatabase: Sendable {
    package let client: PostgresClient
    package let location: DatabaseLocation.Postgres
    package let logger: Logger
    private let runTask: Task<Void, Never>

    /// Keys of the transaction-scoped advisory locks (`pg_advisory_xact_lock`): one number space
    /// for chatd, so that it cannot collide with another application's locks by accident.
    package enum Lock: Int64 {
        /// Held while migrating, so that two nodes starting together migrate once.
        case migrations = 0x6368_6174_0001
        /// Held by every message insert until it commits: ids are then taken in commit order.
        case messages = 0x6368_6174_0002
        /// Held by every change of cluster presence, so that join and leave decisions of one
        /// account cannot interleave between nodes.
        case presence = 0x6368_6174_0003
    }

    /// The first key of the two-key advisory locks on one file name or one owner's quota.
    package static let fileNameLockSpace: Int32 = 0x6368_6601
    package static let fileOwnerLockSpace: Int32 = 0x6368_6602

    private init(client: PostgresClient, location: DatabaseLocation.Postgres, logger: Logger, runTask: Task<Void, Never>) {
        self.client = client
        self.location = location
        self.logger = logger
        self.runTask = runTask
    }

    /// Connects and brings the schema up to date.
    package static func open(_ location: DatabaseLocation.Postgres, logger: Logger) async throws(StartupError) -> PostgresDatabase {
        let client = PostgresClient(configuration: clientConfiguration(location), backgroundLogger: logger)
        let runTask = Task { await client.run() }
        // The pool logs a warning for a query made before `run()` began (the query still waits
        // for it); the new task gets there at once, so a moment's pause keeps the log clean.
        try? await Task.sleep(for: .milliseconds(20))
        let database = PostgresDatabase(client: client, location: location, logger: logger, runTask: runTask)
        do {
            try await PostgresMigrations.migrate(database)
        } catch {
            database.close()
            throw StartupError("cannot use the database \(location): \(PostgresDatabase.describe(error))")
        }
        logger.debug("database open", metadata: ["database": "\(location)"])
        return database
    }

    package func close() {
        runTask.cancel()
    }

    /// What a connection outside the pool (a node's listener, ``ClusterNode``) connects with;
    /// `purpose` ends its `application_name`.
    package func connectionConfiguration(purpose: String) throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: try Self.connectionTLS(location.tls))
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "\(Self.applicationName) \(purpose)")]
        return configuration
    }

    /// What `pg_stat_activity` shows as this process's connections' `application_name`:
    /// `chatd <pid>` for the pool and `chatd <pid> <purpose>` for a connection of its own (a
    /// node's listener), so that an operator can tell the nodes' connections apart, and end one
    /// node's with `pg_terminate_backend`.
    package static let applicationName = "chatd \(ProcessInfo.processInfo.processIdentifier)"

    /// One transaction (`client.withTransaction`), with the error the closure threw (a
    /// ``FileError``, say) rethrown as it is instead of inside a `PostgresTransactionError`, so
    /// that callers see the same errors as from SQLite.
    package func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// A PostgreSQL error as one line: the server's message when there is one, not the query.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message
            }
            return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }

    /// Whether the error is PostgreSQL's unique violation (SQLSTATE 23505).
    package static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }

    private static func clientConfiguration(_ location: DatabaseLocation.Postgres) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch location.tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    private static func connectionTLS(_ mode: DatabaseLocation.Postgres.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}

/// PostgreSQL refuses a write for lack of disk space with SQLSTATE 53100 (`disk_full`); that
/// disk is the database server's, which chatd cannot look at.
extension PSQLError: SpaceReportingError {
    package var isOutOfSpace: Bool { serverInfo?[.sqlState] == "53100" }
    package var isOnDatabaseServer: Bool { true }
}

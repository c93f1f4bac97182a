import ChatCore
import Foundation
import ChatStorePostgres
import ChatStoreSQLite
import Logging

/// The stores a server runs on, opened from `--database`: the embedded SQLite file in the data
/// directory, or the PostgreSQL database cluster nodes share. Everything above this type talks
/// to the protocols only, so the two behave alike by construction where they can.
struct ChatStorage: Sendable {
    enum Backend: Sendable {
        case sqlite(SQLiteDatabase)
        /// With the message store, which the cluster's feed reads committed messages from.
        case postgres(PostgresDatabase, PostgresMessageStore)
    }

    let backend: Backend
    let accounts: any AccountStore
    let messages: any MessageStore
    let files: any FileCatalog

    /// Opens (creating or migrating as needed) the database `location` names.
    static func open(_ location: DatabaseLocation, dataDirectory: String, logger: Logger) async throws(StartupError) -> ChatStorage {
        switch location {
        case .sqlite:
            let database = try SQLiteDatabase(dataDirectory: dataDirectory, logger: logger)
            return ChatStorage(backend: .sqlite(database), accounts: SQLiteAccountStore(database: database),
                               messages: SQLiteMessageStore(database: database), files: SQLiteFileCatalog(database: database))
        case .postgres(let location):
            let database = try await PostgresDatabase.open(location, logger: logger)
            let messages = PostgresMessageStore(database: database)
            return ChatStorage(backend: .postgres(database, messages), accounts: PostgresAccountStore(database: database),
                               messages: messages, files: PostgresFileCatalog(database: database))
        }
    }

    /// What one node keeps in memory and a cluster shares through the database: login lockouts,
    /// rate buckets, and (in a cluster) presence.
    struct SharedState: Sendable {
        let loginGuard: any LoginGuard
        let rateLimit: any MessageRateLimit
        /// `nil` on one node.
        let presence: ClusterPresence?
    }

    func sharedState(_ config: ServerConfig, logger: Logger) -> SharedState {
        switch backend {
        case .sqlite:
            return SharedState(
                loginGuard: LocalLoginGuard(LoginThrottle(namePolicy: config.nameLockout, addressPolicy: config.addressLockout)),
                rateLimit: RateLimiter(rate: config.rate), presence: nil)
        case .postgres(let database, _):
            return SharedState(
                loginGuard: PostgresLoginGuard(database: database, namePolicy: config.nameLockout, addressPolicy: config.addressLockout),
                rateLimit: PostgresRateLimiter(database: database, rate: config.rate),
                presence: ClusterPresence(database: database, label: "\(ProcessInfo.processInfo.hostName) http=\(config.httpHost):\(config.httpPort)",
                                          timeout: .seconds(config.nodeTimeout), logger: logger))
        }
    }

    /// With PostgreSQL: registers this node and returns the bridge that merges the other nodes'
    /// messages, presence and file changes into this one's. `nil` with SQLite.
    func joinCluster(presence: ClusterPresence?, logger: Logger) async throws(StartupError) -> ClusterNode? {
        guard case .postgres(let database, let messages) = backend, let presence else { return nil }
        do {
            return try await ClusterNode.join(database: database, messages: messages, presence: presence, logger: logger)
        } catch {
            throw StartupError("cannot join the cluster in \(database.location): \(PostgresDatabase.describe(error))")
        }
    }

    /// `sqlite` or `postgres`, for the start-up line.
    var kind: String {
        switch backend {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// Checkpoints and closes SQLite; stops PostgreSQL's connection pool.
    func close(logger: Logger) {
        switch backend {
        case .sqlite(let database):
            do {
                try database.close()
                logger.info("database closed")
            } catch {
                logger.error("closing the database failed", metadata: ["error": "\(error)"])
            }
        case .postgres(let database, _):
            database.close()
            logger.info("database connections closed")
        }
    }
}

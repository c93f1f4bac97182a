import ChatCore
import ChatStorePostgres
import ChatStoreSQLite
import Logging

/// The stores a server runs on, opened from `--database`: the embedded SQLite file in the data
/// directory, or the PostgreSQL database cluster nodes share. Everything above this type talks
/// to the protocols only, so the two behave alike by construction where they can.
struct ChatStorage: Sendable {
    enum Backend: Sendable {
        case sqlite(ChatDatabase)
        case postgres(PostgresDatabase)
    }

    let backend: Backend
    let accounts: any AccountStore
    let messages: any MessageStore
    let files: any FileCatalog

    /// Opens (creating or migrating as needed) the database `location` names.
    static func open(_ location: DatabaseLocation, dataDirectory: String, logger: Logger) async throws(StartupError) -> ChatStorage {
        switch location {
        case .sqlite:
            let database = try ChatDatabase(dataDirectory: dataDirectory, logger: logger)
            return ChatStorage(backend: .sqlite(database), accounts: SQLiteAccountStore(database: database),
                               messages: SQLiteMessageStore(database: database), files: SQLiteFileCatalog(database: database))
        case .postgres(let location):
            let database = try await PostgresDatabase.open(location, logger: logger)
            return ChatStorage(backend: .postgres(database), accounts: PostgresAccountStore(database: database),
                               messages: PostgresMessageStore(database: database), files: PostgresFileCatalog(database: database))
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
        case .postgres(let database):
            database.close()
            logger.info("database connections closed")
        }
    }
}

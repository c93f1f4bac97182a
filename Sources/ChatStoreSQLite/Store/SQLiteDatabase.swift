import ChatCore
import Foundation
import GRDB
import Logging

/// The embedded SQLite database in the data directory: opening, schema migrations and closing.
///
/// WAL mode with `synchronous = FULL`, so a committed transaction survives a power cut, not only a
/// crash; message inserts are grouped into few transactions (see ``MessageLog``) so this costs one
/// fsync per batch rather than per message. All access goes through GRDB's async `read`/`write`,
/// which run on GRDB's own queues: never on an event loop.
package final class SQLiteDatabase: Sendable {
    package let pool: DatabasePool
    package let path: String

    /// Opens (creating if needed) `DATA_DIR/chatd.sqlite` and brings its schema up to date.
    package init(dataDirectory: String, logger: Logger) throws(StartupError) {
        let path = (dataDirectory as NSString).appendingPathComponent("chatd.sqlite")
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // The message indexes take inserts all over their B-trees (by conversation, recipient
            // and sender): with SQLite's default 2 MiB cache a busy chat reads its index pages back
            // from the OS for every batch. 32 MiB keeps them; a connection only fills what it uses.
            try db.execute(sql: "PRAGMA cache_size = -32768")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StartupError("cannot open database \(path): \(error)")
        }
        self.path = path
        logger.debug("database open", metadata: ["path": "\(path)"])
    }

    /// Checkpoints the WAL into the main file and closes every connection.
    package func close() throws {
        _ = try pool.writeWithoutTransaction { db in
            try db.checkpoint(.truncate)
        }
        try pool.close()
    }

    /// The schema, as a list of migrations that only ever grows.
    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: accounts, tokens, messages, read markers") { db in
            try db.execute(sql: """
                CREATE TABLE accounts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    -- newest message id when the account was made: older messages are not unread for it
                    read_base INTEGER NOT NULL
                );
                CREATE TABLE tokens (
                    hash BLOB PRIMARY KEY,
                    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX tokens_account ON tokens(account_id);
                CREATE TABLE messages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sender_id INTEGER NOT NULL,
                    sender_name TEXT NOT NULL,
                    recipient_id INTEGER,
                    recipient_name TEXT,
                    -- the conversation as an ordered pair of account ids; (0, 0) is the broadcast channel
                    conv_lo INTEGER NOT NULL,
                    conv_hi INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX messages_conversation ON messages(conv_lo, conv_hi, id);
                CREATE INDEX messages_inbox ON messages(recipient_id, sender_id, id);
                CREATE INDEX messages_outbox ON messages(sender_id, id);
                CREATE TABLE read_markers (
                    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                    chat_id INTEGER NOT NULL,
                    up_to INTEGER NOT NULL,
                    PRIMARY KEY (account_id, chat_id)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2: file area") { db in
            try db.execute(sql: """
                CREATE TABLE files (
                    -- NFC-normalised; BINARY collation orders by the bytes of the UTF-8 name
                    name TEXT PRIMARY KEY,
                    -- no foreign key: a deleted account's files stay, shown under its old name
                    owner_id INTEGER NOT NULL,
                    owner_name TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    -- the content's server-generated file name under files/blobs
                    blob TEXT NOT NULL UNIQUE,
                    uploaded_at INTEGER NOT NULL
                );
                CREATE INDEX files_owner ON files(owner_id);
                """)
        }
        return migrator
    }
}

/// SQLite answers `SQLITE_FULL` when the data directory's disk (or its own size limit) is full.
extension DatabaseError: SpaceReportingError {
    package var isOutOfSpace: Bool { resultCode == .SQLITE_FULL }
    package var isOnDatabaseServer: Bool { false }
}

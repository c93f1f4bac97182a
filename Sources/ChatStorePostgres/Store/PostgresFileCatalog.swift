import ChatCore
import PostgresNIO

/// ``FileCatalog`` in the PostgreSQL database cluster nodes share.
///
/// PostgreSQL runs transactions side by side, so a check-then-write (is the name another
/// owner's? is the quota passed?) could interleave with another node's. Every change first
/// takes transaction-scoped advisory locks on the names it touches and on the owner's quota, in
/// one order (names sorted, then the owner), so that it sees and writes as if alone.
package struct PostgresFileCatalog: FileCatalog {
    package let database: PostgresDatabase

    private var client: PostgresClient { database.client }
    private var logger: Logger { database.logger }

    private static let columns = "name, owner_id, owner_name, size, sha256, blob, uploaded_at"

    package func list() async throws -> [StoredFile] {
        try await Self.files(client.query("SELECT \(unescaped: Self.columns) FROM files ORDER BY name", logger: logger))
    }

    package func file(named name: String) async throws -> StoredFile? {
        try await Self.files(client.query("SELECT \(unescaped: Self.columns) FROM files WHERE name = \(name)", logger: logger)).first
    }

    package func uploadCheck(name: String, ownerID: Int64) async throws -> (existing: StoredFile?, othersUsage: Int64) {
        let existing = try await file(named: name)
        return (existing, try await Self.usage(client.query(Self.usageQuery(ownerID: ownerID, except: name), logger: logger)))
    }

    package func record(_ stored: StoredFile, policy: FilePolicy) async throws -> StoredFile? {
        let logger = logger
        return try await database.transaction { connection in
            try await Self.lock(names: [stored.name], owner: stored.ownerID, on: connection, logger: logger)
            let existing = try await Self.file(named: stored.name, on: connection, logger: logger)
            try FilePolicy.checkMayWrite(over: existing, by: stored.ownerID)
            if policy.quota != nil {
                let others = try await Self.usage(connection.query(Self.usageQuery(ownerID: stored.ownerID, except: stored.name), logger: logger))
                try policy.checkQuota(othersUsage: others, plus: stored.size)
            }
            try await connection.query("""
                INSERT INTO files (name, owner_id, owner_name, size, sha256, blob, uploaded_at)
                VALUES (\(stored.name), \(stored.ownerID), \(stored.ownerName), \(stored.size), \(stored.sha256), \(stored.blob), \(stored.uploadedAtMillis))
                ON CONFLICT (name) DO UPDATE SET owner_id = excluded.owner_id, owner_name = excluded.owner_name,
                    size = excluded.size, sha256 = excluded.sha256, blob = excluded.blob, uploaded_at = excluded.uploaded_at
                """, logger: logger)
            return existing
        }
    }

    package func rename(from source: String, to target: String, by accountID: Int64) async throws
        -> (original: StoredFile, renamed: StoredFile, replaced: StoredFile?) {
        let logger = logger
        return try await database.transaction { connection in
            try await Self.lock(names: [source, target], owner: nil, on: connection, logger: logger)
            guard let file = try await Self.file(named: source, on: connection, logger: logger) else { throw FileError.notFound(source) }
            try FilePolicy.checkMayChange(file, by: accountID)
            guard target != source else { return (file, file, nil) }
            let existing = try await Self.file(named: target, on: connection, logger: logger)
            try FilePolicy.checkMayWrite(over: existing, by: accountID)
            try await connection.query("DELETE FROM files WHERE name = \(target)", logger: logger)
            try await connection.query("UPDATE files SET name = \(target) WHERE name = \(source)", logger: logger)
            return (file, file.renamed(to: target), existing)
        }
    }

    package func remove(named name: String, by accountID: Int64) async throws -> StoredFile {
        let logger = logger
        return try await database.transaction { connection in
            try await Self.lock(names: [name], owner: nil, on: connection, logger: logger)
            guard let file = try await Self.file(named: name, on: connection, logger: logger) else { throw FileError.notFound(name) }
            try FilePolicy.checkMayChange(file, by: accountID)
            try await connection.query("DELETE FROM files WHERE name = \(name)", logger: logger)
            return file
        }
    }

    package func forget(name: String, blob: String) async throws {
        try await client.query("DELETE FROM files WHERE name = \(name) AND blob = \(blob)", logger: logger)
    }

    // MARK: helpers

    private static func lock(names: [String], owner: Int64?, on connection: PostgresConnection, logger: Logger) async throws {
        for name in Set(names).sorted() {
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(PostgresDatabase.fileNameLockSpace), hashtext(\(name)))", logger: logger)
        }
        if let owner {
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(PostgresDatabase.fileOwnerLockSpace), \(Int32(truncatingIfNeeded: owner)))", logger: logger)
        }
    }

    private static func file(named name: String, on connection: PostgresConnection, logger: Logger) async throws -> StoredFile? {
        try await files(connection.query("SELECT \(unescaped: columns) FROM files WHERE name = \(name)", logger: logger)).first
    }

    private static func usageQuery(ownerID: Int64, except name: String) -> PostgresQuery {
        "SELECT COALESCE(SUM(size), 0)::BIGINT FROM files WHERE owner_id = \(ownerID) AND name != \(name)"
    }

    private static func usage(_ rows: PostgresRowSequence) async throws -> Int64 {
        for try await total in rows.decode(Int64.self) { return total }
        return 0
    }

    private static func files(_ rows: PostgresRowSequence) async throws -> [StoredFile] {
        var files: [StoredFile] = []
        for try await (name, ownerID, ownerName, size, sha256, blob, uploaded)
            in rows.decode((String, Int64, String, Int64, String, String, Int64).self) {
            files.append(StoredFile(name: name, ownerID: ownerID, ownerName: ownerName, size: size, sha256: sha256, blob: blob,
                                    uploadedAtMillis: uploaded))
        }
        return files
    }

    package init(database: PostgresDatabase) {
        self.database = database
    }
}

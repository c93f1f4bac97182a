import ChatCore
import GRDB

/// ``FileCatalog`` in the embedded SQLite database. SQLite has one writer at a time, so the
/// check-then-write in each transaction cannot interleave with another's.
package struct SQLiteFileCatalog: FileCatalog {
    package let database: SQLiteDatabase

    package func list() async throws -> [StoredFile] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM files ORDER BY name").map(Self.file(from:))
        }
    }

    package func file(named name: String) async throws -> StoredFile? {
        try await database.pool.read { db in try Self.file(db, named: name) }
    }

    package func uploadCheck(name: String, ownerID: Int64) async throws -> (existing: StoredFile?, othersUsage: Int64) {
        try await database.pool.read { db in
            (try Self.file(db, named: name), try Self.usage(db, ownerID: ownerID, except: name))
        }
    }

    package func record(_ stored: StoredFile, policy: FilePolicy) async throws -> StoredFile? {
        try await database.pool.write { db in
            let existing = try Self.file(db, named: stored.name)
            try FilePolicy.checkMayWrite(over: existing, by: stored.ownerID)
            try policy.checkQuota(othersUsage: try Self.usage(db, ownerID: stored.ownerID, except: stored.name), plus: stored.size)
            try db.execute(sql: """
                INSERT INTO files (name, owner_id, owner_name, size, sha256, blob, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET owner_id = excluded.owner_id, owner_name = excluded.owner_name,
                    size = excluded.size, sha256 = excluded.sha256, blob = excluded.blob, uploaded_at = excluded.uploaded_at
                """, arguments: [stored.name, stored.ownerID, stored.ownerName, stored.size, stored.sha256, stored.blob, stored.uploadedAtMillis])
            return existing
        }
    }

    package func rename(from source: String, to target: String, by accountID: Int64) async throws
        -> (original: StoredFile, renamed: StoredFile, replaced: StoredFile?) {
        try await database.pool.write { db in
            guard let file = try Self.file(db, named: source) else { throw FileError.notFound(source) }
            try FilePolicy.checkMayChange(file, by: accountID)
            guard target != source else { return (file, file, nil) }
            let existing = try Self.file(db, named: target)
            try FilePolicy.checkMayWrite(over: existing, by: accountID)
            try db.execute(sql: "DELETE FROM files WHERE name = ?", arguments: [target])
            try db.execute(sql: "UPDATE files SET name = ? WHERE name = ?", arguments: [target, source])
            return (file, file.renamed(to: target), existing)
        }
    }

    package func remove(named name: String, by accountID: Int64) async throws -> StoredFile {
        try await database.pool.write { db in
            guard let file = try Self.file(db, named: name) else { throw FileError.notFound(name) }
            try FilePolicy.checkMayChange(file, by: accountID)
            try db.execute(sql: "DELETE FROM files WHERE name = ?", arguments: [name])
            return file
        }
    }

    package func forget(name: String, blob: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM files WHERE name = ? AND blob = ?", arguments: [name, blob])
        }
    }

    private static func file(_ db: Database, named name: String) throws -> StoredFile? {
        try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [name]).map(file(from:))
    }

    private static func usage(_ db: Database, ownerID: Int64, except name: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE owner_id = ? AND name != ?",
                           arguments: [ownerID, name]) ?? 0
    }

    private static func file(from row: Row) -> StoredFile {
        StoredFile(name: row["name"], ownerID: row["owner_id"], ownerName: row["owner_name"], size: row["size"],
                   sha256: row["sha256"], blob: row["blob"], uploadedAtMillis: row["uploaded_at"])
    }

    package init(database: SQLiteDatabase) {
        self.database = database
    }
}

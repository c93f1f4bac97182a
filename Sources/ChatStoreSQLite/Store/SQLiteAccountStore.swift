import ChatCore
import Foundation
import GRDB
import Shared

/// ``AccountStore`` in the embedded SQLite database.
package struct SQLiteAccountStore: AccountStore {
    package let database: SQLiteDatabase

    package func credentials(nameKey: String) async throws -> AccountCredentials? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, password_hash FROM accounts WHERE name_key = ?", arguments: [nameKey])
                .map { AccountCredentials(account: Account(id: $0["id"], name: $0["name"]), passwordHash: $0["password_hash"]) }
        }
    }

    package func create(name: String, passwordHash: String, nowMillis: Int64) async throws -> Account {
        try await createMany(names: [name], passwordHash: passwordHash, nowMillis: nowMillis)[0]
    }

    package func createMany(names: [String], passwordHash: String, nowMillis: Int64) async throws -> [Account] {
        do {
            return try await database.pool.write { db in
                let base = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM messages") ?? 0
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO accounts (name, name_key, password_hash, created_at, read_base) VALUES (?, ?, ?, ?, ?)")
                return try names.map { name in
                    try insert.execute(arguments: [name, Username.canonicalKey(name), passwordHash, nowMillis, base])
                    return Account(id: db.lastInsertedRowID, name: name)
                }
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw AccountStoreError.nameTaken
        }
    }

    package func setPassword(nameKey: String, passwordHash: String) async throws -> Account {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, name FROM accounts WHERE name_key = ?", arguments: [nameKey]) else {
                throw AccountStoreError.noSuchAccount
            }
            let account = Account(id: row["id"], name: row["name"])
            try db.execute(sql: "UPDATE accounts SET password_hash = ? WHERE id = ?", arguments: [passwordHash, account.id])
            try db.execute(sql: "DELETE FROM tokens WHERE account_id = ?", arguments: [account.id])
            return account
        }
    }

    package func delete(nameKey: String) async throws -> Account {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, name FROM accounts WHERE name_key = ?", arguments: [nameKey]) else {
                throw AccountStoreError.noSuchAccount
            }
            let account = Account(id: row["id"], name: row["name"])
            try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [account.id])
            return account
        }
    }

    package func roster() async throws -> AccountRoster {
        try await database.pool.read { db in
            let accounts = try Row.fetchAll(db, sql: "SELECT id, name FROM accounts ORDER BY name_key")
                .map { Account(id: $0["id"], name: $0["name"]) }
            return AccountRoster(accounts: accounts, version: try Self.rosterVersion(db))
        }
    }

    package func rosterVersion() async throws -> AccountRoster.Version {
        try await database.pool.read { db in try Self.rosterVersion(db) }
    }

    package static func rosterVersion(_ db: Database) throws -> AccountRoster.Version {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM accounts")
        return AccountRoster.Version(count: row?["n"] ?? 0, maxID: row?["top"] ?? 0)
    }

    package func insertToken(hash: Data, accountID: Int64, nowMillis: Int64, expiresMillis: Int64) async throws {
        try await insertTokens([(hash: hash, accountID: accountID)], nowMillis: nowMillis, expiresMillis: expiresMillis)
    }

    package func insertTokens(_ tokens: [(hash: Data, accountID: Int64)], nowMillis: Int64, expiresMillis: Int64) async throws {
        try await database.pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO tokens (hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            for token in tokens {
                try insert.execute(arguments: [token.hash, token.accountID, nowMillis, expiresMillis])
            }
        }
    }

    package func token(hash: Data) async throws -> (account: Account, endMillis: Int64)? {
        // Rows are not Sendable: map them inside the closure, so that this is GRDB's async `read`.
        // The blocking one would hold a cooperative thread while waiting for a reader, and the
        // readers held by async reads are only released on a cooperative thread: a deadlock.
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT a.id, a.name, t.expires_at FROM tokens t JOIN accounts a ON a.id = t.account_id
                WHERE t.hash = ?
                """, arguments: [hash])
                .map { (account: Account(id: $0["id"], name: $0["name"]), endMillis: $0["expires_at"] as Int64) }
        }
    }

    package func setTokenEnd(hash: Data, endMillis: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE tokens SET expires_at = ? WHERE hash = ?", arguments: [endMillis, hash])
        }
    }

    package func deleteToken(hash: Data) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM tokens WHERE hash = ?", arguments: [hash])
        }
    }

    package init(database: SQLiteDatabase) {
        self.database = database
    }
}

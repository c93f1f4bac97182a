import ChatCore
import Foundation
import NIOCore
import PostgresNIO
import Shared

/// ``AccountStore`` in the PostgreSQL database cluster nodes share.
package struct PostgresAccountStore: AccountStore {
    package let database: PostgresDatabase

    private var client: PostgresClient { database.client }
    private var logger: Logger { database.logger }

    package func credentials(nameKey: String) async throws -> AccountCredentials? {
        // PostgreSQL text cannot hold U+0000, and no account name can: SQLite just finds none.
        guard !nameKey.contains("\0") else { return nil }
        let rows = try await client.query("SELECT id, name, password_hash FROM accounts WHERE name_key = \(nameKey)", logger: logger)
        for try await (id, name, hash) in rows.decode((Int64, String, String).self) {
            return AccountCredentials(account: Account(id: id, name: name), passwordHash: hash)
        }
        return nil
    }

    package func create(name: String, passwordHash: String, nowMillis: Int64) async throws -> Account {
        try await createMany(names: [name], passwordHash: passwordHash, nowMillis: nowMillis)[0]
    }

    /// One statement, so one transaction whatever the count: the names and their keys go as two
    /// arrays.
    package func createMany(names: [String], passwordHash: String, nowMillis: Int64) async throws -> [Account] {
        guard !names.isEmpty else { return [] }
        let keys = names.map(Username.canonicalKey)
        var ids: [String: Int64] = [:]
        do {
            let rows = try await client.query("""
                INSERT INTO accounts (name, name_key, password_hash, created_at, read_base)
                SELECT n.name, n.name_key, \(passwordHash), \(nowMillis), (SELECT COALESCE(MAX(id), 0) FROM messages)
                FROM unnest(\(names)::text[], \(keys)::text[]) WITH ORDINALITY AS n(name, name_key, position)
                ORDER BY n.position
                RETURNING id, name
                """, logger: logger)
            for try await (id, name) in rows.decode((Int64, String).self) {
                ids[name] = id
            }
        } catch where PostgresDatabase.isUniqueViolation(error) {
            throw AccountStoreError.nameTaken
        }
        return try names.map { name in
            guard let id = ids[name] else { throw PostgresStoreError.noRow("INSERT INTO accounts") }
            return Account(id: id, name: name)
        }
    }

    package func setPassword(nameKey: String, passwordHash: String) async throws -> Account {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "UPDATE accounts SET password_hash = \(passwordHash) WHERE name_key = \(nameKey) RETURNING id, name", logger: logger)
            var found: Account?
            for try await (id, name) in rows.decode((Int64, String).self) { found = Account(id: id, name: name) }
            guard let account = found else { throw AccountStoreError.noSuchAccount }
            try await connection.query("DELETE FROM tokens WHERE account_id = \(account.id)", logger: logger)
            return account
        }
    }

    package func delete(nameKey: String) async throws -> Account {
        let rows = try await client.query("DELETE FROM accounts WHERE name_key = \(nameKey) RETURNING id, name", logger: logger)
        for try await (id, name) in rows.decode((Int64, String).self) {
            return Account(id: id, name: name)
        }
        throw AccountStoreError.noSuchAccount
    }

    package func roster() async throws -> AccountRoster {
        // one statement, one snapshot: the list and its version agree
        let rows = try await client.query("""
            SELECT id, name, COUNT(*) OVER (), MAX(id) OVER () FROM accounts ORDER BY name_key COLLATE "C"
            """, logger: logger)
        var accounts: [Account] = []
        var version = AccountRoster.Version(count: 0, maxID: 0)
        for try await (id, name, count, top) in rows.decode((Int64, String, Int64, Int64).self) {
            accounts.append(Account(id: id, name: name))
            version = AccountRoster.Version(count: Int(count), maxID: top)
        }
        return AccountRoster(accounts: accounts, version: version)
    }

    package func rosterVersion() async throws -> AccountRoster.Version {
        try await Self.rosterVersion(client.query("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM accounts", logger: logger))
    }

    package static func rosterVersion(_ rows: PostgresRowSequence) async throws -> AccountRoster.Version {
        for try await (count, top) in rows.decode((Int64, Int64).self) {
            return AccountRoster.Version(count: Int(count), maxID: top)
        }
        return AccountRoster.Version(count: 0, maxID: 0)
    }

    package func insertToken(hash: Data, accountID: Int64, nowMillis: Int64, expiresMillis: Int64) async throws {
        try await insertTokens([(hash: hash, accountID: accountID)], nowMillis: nowMillis, expiresMillis: expiresMillis)
    }

    /// One statement, as ``createMany(names:passwordHash:nowMillis:)``.
    package func insertTokens(_ tokens: [(hash: Data, accountID: Int64)], nowMillis: Int64, expiresMillis: Int64) async throws {
        guard !tokens.isEmpty else { return }
        let hashes = tokens.map { ByteBuffer(bytes: $0.hash) }
        let accountIDs = tokens.map(\.accountID)
        try await client.query("""
            INSERT INTO tokens (hash, account_id, created_at, expires_at)
            SELECT t.hash, t.account_id, \(nowMillis), \(expiresMillis) FROM unnest(\(hashes)::bytea[], \(accountIDs)::int8[]) AS t(hash, account_id)
            """, logger: logger)
    }

    package func token(hash: Data) async throws -> (account: Account, endMillis: Int64)? {
        let rows = try await client.query("""
            SELECT a.id, a.name, t.expires_at FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = \(hash)
            """, logger: logger)
        for try await (id, name, end) in rows.decode((Int64, String, Int64).self) {
            return (Account(id: id, name: name), end)
        }
        return nil
    }

    package func setTokenEnd(hash: Data, endMillis: Int64) async throws {
        try await client.query("UPDATE tokens SET expires_at = \(endMillis) WHERE hash = \(hash)", logger: logger)
    }

    package func deleteToken(hash: Data) async throws {
        try await client.query("DELETE FROM tokens WHERE hash = \(hash)", logger: logger)
    }

    package init(database: PostgresDatabase) {
        self.database = database
    }
}

/// A statement that must return a row returned none: a bug or a schema out of step.
package enum PostgresStoreError: Error, CustomStringConvertible {
    case noRow(String)

    package var description: String {
        switch self {
        case .noRow(let statement): "\(statement) returned no row"
        }
    }
}

import ChatCore
import Foundation
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
        do {
            let rows = try await client.query("""
                INSERT INTO accounts (name, name_key, password_hash, created_at, read_base)
                VALUES (\(name), \(Username.canonicalKey(name)), \(passwordHash), \(nowMillis), (SELECT COALESCE(MAX(id), 0) FROM messages))
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) {
                return Account(id: id, name: name)
            }
            throw PostgresStoreError.noRow("INSERT INTO accounts")
        } catch where PostgresDatabase.isUniqueViolation(error) {
            throw AccountStoreError.nameTaken
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
            SELECT id, name, COUNT(*) OVER (), MAX(id) OVER () FROM accounts ORDER BY name_key
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
        try await client.query("""
            INSERT INTO tokens (hash, account_id, created_at, expires_at) VALUES (\(hash), \(accountID), \(nowMillis), \(expiresMillis))
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

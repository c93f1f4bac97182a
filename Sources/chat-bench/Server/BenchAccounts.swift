import ChatCore
import ChatStorePostgres
import ChatStoreSQLite
import Foundation
import Logging
import Shared

/// The accounts a run logs in with, made before chatd starts.
///
/// Logging in thousands of accounts through `POST /api/login` would measure bcrypt (0.2 s each by
/// design), not the chat. So the password is hashed once (``PasswordHasher``, the cost
/// `chatd user add` uses) and every account shares that hash; the accounts and a login token each
/// go in through chatd's own store (``AccountStore``), on the database chatd then serves: the
/// data directory's SQLite file, or the cluster's PostgreSQL. Every account has the password
/// ``password``, so FTP logins work too. One more account, `benchseed`, has no token: the roster
/// every welcome lists is the seeded accounts and that one.
struct BenchAccounts: Sendable {
    static let password = "bench-password-1"
    static let seedName = "benchseed"

    struct Login: Sendable {
        let name: String
        let token: String
    }

    let logins: [Login]

    /// Creates `count` accounts named `u00000`, `u00001`, … in a fresh data directory.
    static func seed(count: Int, dataDirectory: URL) async throws -> BenchAccounts {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let database = try SQLiteDatabase(dataDirectory: dataDirectory.path, logger: logger)
        do {
            let accounts = try await seed(count: count, into: SQLiteAccountStore(database: database))
            try database.close()
            return accounts
        } catch {
            try? database.close()
            throw error
        }
    }

    /// The same in a cluster's PostgreSQL database (opening it migrates the schema, as chatd does).
    static func seed(count: Int, postgres: BenchPostgres, dataDirectory: URL) async throws -> BenchAccounts {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        guard case .postgres(let location) = try DatabaseLocation(parsing: postgres.url, option: "--database") else {
            throw BenchError("--database: not a postgres:// URL")
        }
        let database = try await PostgresDatabase.open(location, logger: logger)
        defer { database.close() }
        return try await seed(count: count, into: PostgresAccountStore(database: database))
    }

    /// The tokens end a day after the run starts, as chat-bench's tokens always have: chatd slides
    /// each to its full lifetime on first use (``TokenLifetime``), one token write per account.
    private static func seed(count: Int, into store: some AccountStore) async throws -> BenchAccounts {
        let passwordHash = try await PasswordHasher(cost: 10).hash(password)
        let now = Timestamp.nowMillis()
        let end = TokenLifetime(days: 1).end(issuedAtMillis: now)
        let logins = (0..<count).map { Login(name: String(format: "u%05d", $0), token: SessionToken.generate()) }
        let accounts = try await store.createMany(names: [seedName] + logins.map(\.name), passwordHash: passwordHash, nowMillis: now)
        let tokens = zip(logins, accounts.dropFirst()).map { login, account in (hash: SessionToken.hash(login.token), accountID: account.id) }
        try await store.insertTokens(tokens, nowMillis: now, expiresMillis: end)
        return BenchAccounts(logins: logins)
    }

    /// The stores' own logging is chatd's business; what goes wrong here is thrown.
    private static let logger = Logger(label: "chat-bench.seed") { _ in SwiftLogNoOpLogHandler() }
}

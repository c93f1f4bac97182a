import ChatCore
import PostgresNIO

/// ``LoginGuard`` kept in the PostgreSQL database, so that failed logins on every node of a
/// cluster count towards one lock, with the same rules as ``LoginThrottle``: failures per name
/// and per address inside a sliding window; reaching the threshold locks the key.
///
/// Times are the database server's clock, so nodes whose clocks differ still agree. A failure is
/// counted under an advisory lock on its key, so that two nodes counting at once both see each
/// other's failure.
package struct PostgresLoginGuard: LoginGuard {
    package let database: PostgresDatabase
    package let namePolicy: LoginThrottle.Policy
    package let addressPolicy: LoginThrottle.Policy

    private static let keyLockSpace: Int32 = 0x6368_6c01
    private static let now = "extract(epoch from clock_timestamp())"

    private var logger: Logger { database.logger }

    package func retryAfter(nameKey: String, address: String) async throws -> Double? {
        let rows = try await database.client.query("""
            SELECT MAX(until) - \(unescaped: Self.now) FROM login_locks
            WHERE key IN (\(Self.nameKey(nameKey)), \(Self.addressKey(address))) AND until > \(unescaped: Self.now)
            """, logger: logger)
        for try await wait in rows.decode(Double?.self) {
            return wait
        }
        return nil
    }

    package func recordFailure(nameKey: String, address: String) async throws {
        let logger = logger
        let counted = [(Self.nameKey(nameKey), namePolicy), (Self.addressKey(address), addressPolicy)].filter { $0.1.failures > 0 }
        guard !counted.isEmpty else { return }
        let horizon = max(namePolicy.window, addressPolicy.window)
        try await database.transaction { connection in
            for (key, policy) in counted.sorted(by: { $0.0 < $1.0 }) {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.keyLockSpace), hashtext(\(key)))", logger: logger)
                try await connection.query("INSERT INTO login_failures (key, at) VALUES (\(key), \(unescaped: Self.now))", logger: logger)
                let rows = try await connection.query("""
                    SELECT COUNT(*) FROM login_failures WHERE key = \(key) AND at > \(unescaped: Self.now) - \(policy.window)
                    """, logger: logger)
                var failures: Int64 = 0
                for try await count in rows.decode(Int64.self) { failures = count }
                if failures >= policy.failures {
                    try await connection.query("""
                        INSERT INTO login_locks (key, until) VALUES (\(key), \(unescaped: Self.now) + \(policy.lockout))
                        ON CONFLICT (key) DO UPDATE SET until = excluded.until
                        """, logger: logger)
                    try await connection.query("DELETE FROM login_failures WHERE key = \(key)", logger: logger)
                }
            }
            // keeps the tables bounded, as LoginThrottle's pruning does
            try await connection.query("DELETE FROM login_failures WHERE at <= \(unescaped: Self.now) - \(horizon)", logger: logger)
            try await connection.query("DELETE FROM login_locks WHERE until <= \(unescaped: Self.now)", logger: logger)
        }
    }

    package func recordSuccess(nameKey: String) async throws {
        try await database.client.query("DELETE FROM login_failures WHERE key = \(Self.nameKey(nameKey))", logger: logger)
    }

    // PostgreSQL text cannot hold U+0000, which a refused name may contain: it counts as U+FFFD.
    private static func nameKey(_ key: String) -> String { "name:" + key.replacingOccurrences(of: "\0", with: "\u{FFFD}") }
    private static func addressKey(_ address: String) -> String { "address:" + address }

    package init(database: PostgresDatabase, namePolicy: LoginThrottle.Policy, addressPolicy: LoginThrottle.Policy) {
        self.database = database
        self.namePolicy = namePolicy
        self.addressPolicy = addressPolicy
    }
}

import ChatCore
import PostgresNIO

/// `--rate` enforced in the PostgreSQL database: one token bucket per account for all its
/// sessions on every node, refilled and taken in one atomic statement (the row lock of the
/// upsert orders concurrent senders), on the database server's clock.
package struct PostgresRateLimiter: MessageRateLimit {
    package let database: PostgresDatabase
    package let rate: RateLimiter.Rate

    package func allow(accountID: Int64) async throws -> Bool {
        guard !rate.isUnlimited else { return true }
        // A refused message changes nothing: the refill since `updated` is computed again next time.
        let rows = try await database.client.query("""
            WITH now AS (SELECT extract(epoch from clock_timestamp())::DOUBLE PRECISION AS t)
            INSERT INTO rate_buckets AS b (account_id, tokens, updated)
            SELECT \(accountID), \(rate.burst) - 1, now.t FROM now
            ON CONFLICT (account_id) DO UPDATE
                SET tokens = LEAST(\(rate.burst), b.tokens + (excluded.updated - b.updated) * \(rate.perSecond)) - 1,
                    updated = excluded.updated
                WHERE LEAST(\(rate.burst), b.tokens + (excluded.updated - b.updated) * \(rate.perSecond)) >= 1
            RETURNING tokens
            """, logger: database.logger)
        for try await _ in rows.decode(Double.self) {
            return true
        }
        return false
    }

    package init(database: PostgresDatabase, rate: RateLimiter.Rate) {
        self.database = database
        self.rate = rate
    }
}

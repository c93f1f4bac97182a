import Shared
import Synchronization

/// Where `--rate` is enforced: in this process (``RateLimiter``), or in the database cluster
/// nodes share, so that an account's sessions on every node draw from one bucket.
package protocol MessageRateLimit: Sendable {
    /// Takes one message's token for `accountID` if there is one.
    func allow(accountID: Int64) async throws -> Bool

    /// The same decision when it can be made at once, without waiting (in memory); `nil` when
    /// it needs ``allow(accountID:)`` (a cluster's shared buckets). Takes the token when it
    /// answers `true`.
    func allowNow(accountID: Int64) -> Bool?
}

extension MessageRateLimit {
    package func allowNow(accountID: Int64) -> Bool? { nil }
}

/// Per-account token buckets for `--rate N[/BURST]`: an account may send `burst` messages at
/// once and `perSecond` on average, summed over all its sessions.
package final class RateLimiter: MessageRateLimit {
    package struct Rate: Sendable, Equatable {
        package var perSecond: Double
        package var burst: Double

        package static let `default` = Rate(perSecond: 20, burst: 40)
        /// `--rate 0`: no limit.
        package static let unlimited = Rate(perSecond: 0, burst: 0)

        package var isUnlimited: Bool { perSecond <= 0 }

        package init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    package let rate: Rate
    private let buckets = Mutex<[Int64: Bucket]>([:])

    package init(rate: Rate) {
        self.rate = rate
    }

    package func allow(accountID: Int64) -> Bool {
        allow(accountID: accountID, now: Double(Timestamp.nowMillis()) / 1000)
    }

    package func allowNow(accountID: Int64) -> Bool? {
        allow(accountID: accountID)
    }

    /// Takes one token for `accountID` if there is one.
    package func allow(accountID: Int64, now: Double) -> Bool {
        guard !rate.isUnlimited else { return true }
        return buckets.withLock { buckets in
            var bucket = buckets[accountID] ?? Bucket(tokens: rate.burst, updated: now)
            bucket.tokens = min(rate.burst, bucket.tokens + (now - bucket.updated) * rate.perSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed {
                bucket.tokens -= 1
            }
            buckets[accountID] = bucket
            return allowed
        }
    }
}

import Shared
import Synchronization

/// Where login lockouts are kept: in this process (``LocalLoginGuard``), or in the database
/// that cluster nodes share, so that failures on every node count towards one lock.
package protocol LoginGuard: Sendable {
    /// Seconds until an attempt for this name from this address may be made, or `nil` if it may now.
    func retryAfter(nameKey: String, address: String) async throws -> Double?
    func recordFailure(nameKey: String, address: String) async throws
    /// Clears the name's failures (not the address's: one good password must not let a guesser
    /// reset its own count).
    func recordSuccess(nameKey: String) async throws
}

/// ``LoginThrottle`` behind a lock, with the wall clock: the one-node lockout.
package final class LocalLoginGuard: LoginGuard {
    private let throttle: Mutex<LoginThrottle>

    package init(_ throttle: LoginThrottle) {
        self.throttle = Mutex(throttle)
    }

    package func retryAfter(nameKey: String, address: String) -> Double? {
        let now = Self.now()
        return throttle.withLock { $0.retryAfter(nameKey: nameKey, address: address, now: now) }
    }

    package func recordFailure(nameKey: String, address: String) {
        let now = Self.now()
        throttle.withLock { $0.recordFailure(nameKey: nameKey, address: address, now: now) }
    }

    package func recordSuccess(nameKey: String) {
        throttle.withLock { $0.recordSuccess(nameKey: nameKey) }
    }

    private static func now() -> Double {
        Double(Timestamp.nowMillis()) / 1000
    }
}

/// Login lockout as a pure state machine (PROTOCOL.md §1, §6): failures counted per account name
/// and per client address inside a sliding window; reaching the threshold locks that key. The
/// failure that reaches the threshold is itself still answered as a wrong password; attempts
/// after it are refused until the lock ends, whatever the password.
package struct LoginThrottle: Sendable {
    /// When a key locks: `failures` within `window` seconds lock it for `lockout` seconds.
    package struct Policy: Sendable, Equatable {
        package var failures: Int
        package var window: Double
        package var lockout: Double

        package static let perName = Policy(failures: 5, window: 300, lockout: 60)
        package static let perAddress = Policy(failures: 50, window: 60, lockout: 60)

        package init(failures: Int, window: Double, lockout: Double) {
            self.failures = failures
            self.window = window
            self.lockout = lockout
        }
    }

    private struct Record {
        var failures: [Double] = []
        var lockedUntil: Double?
    }

    package let namePolicy: Policy
    package let addressPolicy: Policy
    private var names: [String: Record] = [:]
    private var addresses: [String: Record] = [:]

    package init(namePolicy: Policy = .perName, addressPolicy: Policy = .perAddress) {
        self.namePolicy = namePolicy
        self.addressPolicy = addressPolicy
    }

    /// Seconds until an attempt for this name from this address may be made, or `nil` if it may now.
    package func retryAfter(nameKey: String, address: String, now: Double) -> Double? {
        let waits = [names[nameKey]?.lockedUntil, addresses[address]?.lockedUntil]
            .compactMap { $0 }
            .filter { $0 > now }
            .map { $0 - now }
        return waits.max()
    }

    package mutating func recordFailure(nameKey: String, address: String, now: Double) {
        Self.record(&names, key: nameKey, policy: namePolicy, now: now)
        Self.record(&addresses, key: address, policy: addressPolicy, now: now)
        if names.count + addresses.count > 10_000 {
            prune(now: now)
        }
    }

    /// A successful login clears the name's failures (not the address's: one good password must
    /// not let a guesser reset its own count). A running lock stays until it ends, as in
    /// `PostgresLoginGuard`: while locked every attempt is refused whatever the password
    /// (PROTOCOL.md §1), so a success lands here during a lock only from a login that raced the
    /// failure which set it.
    package mutating func recordSuccess(nameKey: String) {
        if let lockedUntil = names[nameKey]?.lockedUntil {
            names[nameKey] = Record(lockedUntil: lockedUntil)
        } else {
            names[nameKey] = nil
        }
    }

    private static func record(_ table: inout [String: Record], key: String, policy: Policy, now: Double) {
        guard policy.failures > 0 else { return }
        var record = table[key] ?? Record()
        record.failures.removeAll { $0 <= now - policy.window }
        record.failures.append(now)
        if record.failures.count >= policy.failures {
            record.lockedUntil = now + policy.lockout
            record.failures.removeAll()
        }
        table[key] = record
    }

    /// Forgets keys with no recent failure and no running lock, so memory stays bounded.
    private mutating func prune(now: Double) {
        let horizon = max(namePolicy.window, addressPolicy.window)
        func stale(_ record: Record) -> Bool {
            (record.lockedUntil ?? 0) <= now && (record.failures.last ?? 0) <= now - horizon
        }
        names = names.filter { !stale($0.value) }
        addresses = addresses.filter { !stale($0.value) }
    }
}

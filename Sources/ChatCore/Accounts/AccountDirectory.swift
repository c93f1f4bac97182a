import Synchronization

/// Recently resolved account names, so that a direct message does not cost a database read for
/// its recipient. An account's id and name never change while it exists, so a hit is right
/// unless the operator deleted (and perhaps re-created) the account from another process
/// (`chatd user del`); entries therefore expire after `lifetimeSeconds`, which bounds that
/// staleness. Misses are not remembered: a new account is found at once.
package struct AccountDirectory: Sendable {
    private struct Entry {
        var account: Account
        var resolvedAt: Double
    }

    package let lifetimeSeconds: Double
    package let capacity: Int
    private var entries: [String: Entry] = [:]

    package init(lifetimeSeconds: Double = 10, capacity: Int = 100_000) {
        self.lifetimeSeconds = lifetimeSeconds
        self.capacity = capacity
    }

    /// The account for a canonical name key, if resolved less than `lifetimeSeconds` ago.
    package func account(key: String, now: Double) -> Account? {
        guard let entry = entries[key], now - entry.resolvedAt < lifetimeSeconds else { return nil }
        return entry.account
    }

    package mutating func remember(_ account: Account, key: String, now: Double) {
        if entries.count >= capacity {
            entries = entries.filter { now - $0.value.resolvedAt < lifetimeSeconds }
            if entries.count >= capacity { entries.removeAll() }
        }
        entries[key] = Entry(account: account, resolvedAt: now)
    }
}

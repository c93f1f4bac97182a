import ChatCore
import FTPProtocol
import Synchronization

/// Counts control connections per client address against a limit (RFC 2577 §5: a client may not
/// take every slot).
package final class ConnectionsPerAddress: Sendable {
    package let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    package init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot for `address`, or returns `false` if it already holds `limit`.
    package func acquire(_ address: String) -> Bool {
        counts.withLock { counts in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
    }

    package func release(_ address: String) {
        counts.withLock { counts in
            let remaining = counts[address, default: 1] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }
}

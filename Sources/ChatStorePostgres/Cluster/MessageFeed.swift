import ChatCore
import Logging
import Synchronization

/// Delivers committed messages to this node's sessions in id order, whichever node stored them.
///
/// Every node's sessions must see each chat in id order, and a message stored by another node
/// is only known here through a notification, which can arrive late or not at all. So nothing
/// is delivered straight from an insert: one loop keeps a cursor (the highest id delivered) and
/// only ever delivers the messages right above it, read from the table. Ids are handed out in
/// commit order (see ``PostgresMessageStore``), so "above the cursor" never skips a message that
/// commits later.
///
/// A batch this node just stored is delivered without reading it back when it starts right
/// above the cursor (the common case with one busy node); otherwise the loop reads the gap.
/// Notifications (``poke(upTo:)``), a reconnect and a periodic tick only make the loop look.
package final class MessageFeed: MessageDelivery {
    private struct State {
        var cursor: Int64
        /// Batches stored by this node, waiting for the loop; one per group commit, and the
        /// message log's queue bounds how many can be in flight.
        var local: [[StoredMessage]] = []
        /// The highest id somebody said was committed.
        var announced: Int64 = 0
        var waiter: CheckedContinuation<Void, Never>?
        var stopping = false
    }

    /// Rows read per query while catching up.
    package static let pageSize = 1000

    private let store: any CommittedMessages
    private let hub: any MessageDelivery
    private let state: Mutex<State>
    private let logger: Logger

    package init(store: any CommittedMessages, hub: any MessageDelivery, startAfter cursor: Int64, logger: Logger) {
        self.store = store
        self.hub = hub
        self.state = Mutex(State(cursor: cursor))
        self.logger = logger
    }

    /// A batch this node committed, ids rising.
    package func deliver(_ batch: [StoredMessage]) {
        guard !batch.isEmpty else { return }
        wake { $0.local.append(batch) }
    }

    /// Messages up to `id` are committed somewhere; `Int64.max` to look whatever was said.
    package func poke(upTo id: Int64 = .max) {
        wake { $0.announced = max($0.announced, id) }
    }

    package func stop() {
        wake { $0.stopping = true }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiter = state.withLock { state in
            change(&state)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The loop; returns after ``stop()``.
    package func run() async {
        while let (local, announced) = await nextWork() {
            do {
                for batch in local {
                    try await deliverLocal(batch)
                }
                if announced > cursor {
                    try await catchUp()
                }
            } catch {
                logger.warning("reading new messages failed; retrying", metadata: ["error": "\(PostgresDatabase.describe(error))"])
                poke()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private var cursor: Int64 {
        state.withLock { $0.cursor }
    }

    private func advance(to id: Int64) {
        state.withLock { $0.cursor = max($0.cursor, id) }
    }

    private func deliverLocal(_ batch: [StoredMessage]) async throws {
        guard let first = batch.first, let last = batch.last, last.id > cursor else { return }
        let contiguous = last.id - first.id + 1 == Int64(batch.count)
        if first.id == cursor + 1 && contiguous {
            hub.deliver(batch)
            advance(to: last.id)
        } else {
            try await catchUp()
        }
    }

    /// Delivers everything committed above the cursor, a page at a time.
    private func catchUp() async throws {
        while true {
            let page = try await store.messages(after: cursor, limit: Self.pageSize)
            guard let last = page.last else { return }
            hub.deliver(page)
            advance(to: last.id)
            if page.count < Self.pageSize { return }
        }
    }

    private func nextWork() async -> ([[StoredMessage]], Int64)? {
        enum Step { case work([[StoredMessage]], Int64), done, wait }
        while true {
            let step = state.withLock { state -> Step in
                if state.stopping { return .done }
                guard !state.local.isEmpty || state.announced > state.cursor else { return .wait }
                defer {
                    state.local = []
                    state.announced = 0
                }
                return .work(state.local, state.announced)
            }
            switch step {
            case .work(let local, let announced): return (local, announced)
            case .done: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        if state.stopping || !state.local.isEmpty || state.announced > state.cursor { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }
}

/// Where the feed reads committed messages from: the shared database's table.
package protocol CommittedMessages: Sendable {
    /// Committed messages with ids above `id`, oldest first, at most `limit`.
    func messages(after id: Int64, limit: Int) async throws -> [StoredMessage]
}

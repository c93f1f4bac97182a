import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Store-then-send with group commit. Accepted messages queue here; one writer task commits
/// everything that queued while the previous transaction was running, in one transaction, then
/// hands the stored messages, in id order, to the hub. So a message is durable before anyone
/// sees it, every chat is delivered in id order (one writer, ids from SQLite), and the cost of
/// an fsync is shared by every message that arrived during the last one.
///
/// The queue is bounded: when it is full, ``append(_:)`` waits, which stops that client's
/// reader and, through TCP, the client itself.
package final class MessageLog: Service, Sendable {
    /// A message waiting to be stored, with the session to tell if storing fails.
    package struct Entry: Sendable {
        package let draft: MessageDraft
        package let origin: ChatSession?
    }

    private struct Pending {
        var entries: [Entry] = []
        var writer: CheckedContinuation<Void, Never>?
        var blockedSenders: [CheckedContinuation<Void, Never>] = []
        var stopping = false
    }

    package let store: any MessageStore
    package let hub: ChatHub
    package let capacity: Int
    package let maxBatch: Int
    /// Told of every commit and every failure, so a full disk is answered `storage_full` and
    /// logged once a minute, not once a batch.
    package let health: StorageHealth
    private let pending = Mutex(Pending())
    private let logger: Logger

    package init(store: any MessageStore, hub: ChatHub, capacity: Int = 8192, maxBatch: Int = 4096,
         health: StorageHealth, logger: Logger) {
        self.store = store
        self.hub = hub
        self.capacity = capacity
        self.maxBatch = maxBatch
        self.health = health
        self.logger = logger
    }

    /// Queues a message for storing and delivery if there is room, without waiting: the event
    /// loop's way in. `false` when the queue is full (then ``append(_:)`` waits for room).
    package func offer(_ entry: Entry) -> Bool {
        let appended = pending.withLock { p -> (CheckedContinuation<Void, Never>?)? in
            guard p.entries.count < capacity || p.stopping else { return nil }
            p.entries.append(entry)
            defer { p.writer = nil }
            return .some(p.writer)
        }
        guard let writer = appended else { return false }
        writer?.resume()
        return true
    }

    /// Queues a message for storing and delivery; waits only while the queue is full.
    package func append(_ entry: Entry) async {
        enum Step { case appended(CheckedContinuation<Void, Never>?), full }
        while true {
            let step = pending.withLock { p -> Step in
                guard p.entries.count < capacity || p.stopping else { return .full }
                p.entries.append(entry)
                defer { p.writer = nil }
                return .appended(p.writer)
            }
            switch step {
            case .appended(let writer):
                writer?.resume()
                return
            case .full:
                await withCheckedContinuation { continuation in
                    let roomNow = pending.withLock { p -> Bool in
                        if p.entries.count < capacity || p.stopping { return true }
                        p.blockedSenders.append(continuation)
                        return false
                    }
                    if roomNow { continuation.resume() }
                }
            }
        }
    }

    /// Commits until graceful shutdown (or cancellation), then commits what is still queued and returns.
    package func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await writeLoop()
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    private func stop() {
        let (writer, blocked) = pending.withLock { p in
            p.stopping = true
            defer {
                p.writer = nil
                p.blockedSenders = []
            }
            return (p.writer, p.blockedSenders)
        }
        writer?.resume()
        for sender in blocked { sender.resume() }
    }

    private func writeLoop() async {
        while let batch = await nextBatch() {
            do {
                let stored = try await hub.metrics.timeDatabaseWrite {
                    try await store.insert(batch.map(\.draft), nowMillis: Timestamp.nowMillis())
                }
                let direct = stored.count { $0.recipient != nil }
                hub.metrics.directMessagesIn.increment(by: direct)
                hub.metrics.broadcastMessagesIn.increment(by: stored.count - direct)
                health.stored()
                hub.publish(stored)
            } catch {
                let refusal: ProtocolError
                if health.refused(error, writing: "\(batch.count) messages") {
                    refusal = ProtocolError.storageFull(refusing: "message")
                } else {
                    logger.error("storing messages failed", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                    refusal = ProtocolError(.internal, "the message could not be stored")
                }
                for entry in batch {
                    entry.origin?.send(FrameEncoder.error(refusal, clientID: entry.draft.clientID))
                }
            }
        }
        logger.debug("message log drained")
    }

    /// Waits for queued messages and takes up to `maxBatch` of them; `nil` once stopping and empty.
    private func nextBatch() async -> [Entry]? {
        enum Step { case batch([Entry], [CheckedContinuation<Void, Never>]), done, empty }
        while true {
            let step = pending.withLock { p -> Step in
                if p.entries.isEmpty { return p.stopping ? .done : .empty }
                let count = min(p.entries.count, maxBatch)
                let batch = Array(p.entries.prefix(count))
                p.entries.removeFirst(count)
                let wake = Array(p.blockedSenders.prefix(max(0, capacity - p.entries.count)))
                p.blockedSenders.removeFirst(wake.count)
                return .batch(batch, wake)
            }
            switch step {
            case .batch(let batch, let wake):
                for sender in wake { sender.resume() }
                return batch
            case .done:
                return nil
            case .empty:
                await withCheckedContinuation { continuation in
                    let ready = pending.withLock { p -> Bool in
                        if !p.entries.isEmpty || p.stopping { return true }
                        p.writer = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }
}

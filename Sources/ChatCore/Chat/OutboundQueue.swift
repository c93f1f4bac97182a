import NIOCore
import Synchronization

/// Something that empties an ``OutboundQueue`` on an event loop when scheduled: the
/// WebSocket door's `ChatEndpoint`. ``drain()`` runs on ``eventLoop``.
package protocol OutboundDrain: AnyObject, Sendable {
    var eventLoop: any EventLoop { get }
    func drain()
}

/// The thread-safe shell around ``OutboundQueueState``: the hub enqueues from any thread without
/// waiting; the attached ``OutboundDrain`` empties it, scheduled by whoever ``enqueue(_:)`` or
/// ``close(_:)`` hands it back to (see ``DrainRequests``).
package final class OutboundQueue: Sendable {
    private struct Guarded {
        var state: OutboundQueueState
        var drain: (any OutboundDrain)?
    }

    private let guarded: Mutex<Guarded>

    package init(limit: Int) {
        guarded = Mutex(Guarded(state: OutboundQueueState(limit: limit)))
    }

    /// Queues a frame. Returns the writer to schedule, if this made work for an idle one.
    package func enqueue(_ frame: QueuedFrame) -> (result: OutboundQueueState.EnqueueResult, schedule: (any OutboundDrain)?) {
        guarded.withLock { g in
            let result = g.state.enqueue(frame)
            return (result, Self.drainToSchedule(&g))
        }
    }

    /// Asks for a close after what is queued. Returns the writer to schedule, if any.
    @discardableResult
    package func close(_ reason: CloseReason) -> (any OutboundDrain)? {
        guarded.withLock { g in
            g.state.close(reason)
            return Self.drainToSchedule(&g)
        }
    }

    /// The reader side ended: nothing more is written.
    package func finish() {
        guarded.withLock { $0.state.finish() }
    }

    /// Makes `drain` this queue's writer from now on, dropping live copies of messages up to
    /// `lastID` (see ``OutboundQueueState/skipMessagesUpTo``). Returns it if it has work already.
    package func attach(_ drain: any OutboundDrain, skippingMessagesUpTo lastID: Int64 = 0) -> (any OutboundDrain)? {
        guarded.withLock { g in
            g.drain = drain
            g.state.attachPushWriter(skippingMessagesUpTo: lastID)
            return Self.drainToSchedule(&g)
        }
    }

    /// The attached writer's batch (see ``OutboundQueueState/takeForWriting()``).
    package func takeForWriting() -> OutboundQueueState.Next {
        guarded.withLock { $0.state.takeForWriting() }
    }

    /// The socket has written `count` bytes the writer took.
    package func written(_ count: Int) {
        guarded.withLock { $0.state.written(count) }
    }

    private static func drainToSchedule(_ g: inout Guarded) -> (any OutboundDrain)? {
        guard let drain = g.drain, g.state.needsDrain() else { return nil }
        return drain
    }
}

import NIOCore
import Synchronization

/// Something that empties an ``OutboundQueue`` on an event loop when scheduled: the WebSocket's
/// ``SessionWriter``. ``drain()`` runs on ``eventLoop``.
protocol OutboundDrain: AnyObject, Sendable {
    var eventLoop: any EventLoop { get }
    func drain()
}

/// The thread-safe shell around ``OutboundQueueState``: the hub enqueues from any thread without
/// waiting. The writer is either a task awaiting ``next()`` or an attached ``OutboundDrain`` that
/// the caller schedules when ``enqueue(_:)`` hands it back (see ``DrainRequests``).
final class OutboundQueue: Sendable {
    private struct Guarded {
        var state: OutboundQueueState
        var waiter: CheckedContinuation<OutboundQueueState.Next, Never>?
        var drain: (any OutboundDrain)?
    }

    private let guarded: Mutex<Guarded>

    init(limit: Int) {
        guarded = Mutex(Guarded(state: OutboundQueueState(limit: limit)))
    }

    /// Queues a frame. Returns the writer to schedule, if this made work for an idle one.
    func enqueue(_ frame: QueuedFrame) -> (result: OutboundQueueState.EnqueueResult, schedule: (any OutboundDrain)?) {
        let (result, wake, drain) = guarded.withLock { g in
            let result = g.state.enqueue(frame)
            return (result, Self.takeWaiter(&g), Self.drainToSchedule(&g))
        }
        if let (waiter, next) = wake { waiter.resume(returning: next) }
        return (result, drain)
    }

    /// Asks for a close after what is queued. Returns the writer to schedule, if any.
    @discardableResult
    func close(_ reason: CloseReason) -> (any OutboundDrain)? {
        let (wake, drain) = guarded.withLock { g in
            g.state.close(reason)
            return (Self.takeWaiter(&g), Self.drainToSchedule(&g))
        }
        if let (waiter, next) = wake { waiter.resume(returning: next) }
        return drain
    }

    func finish() {
        let wake = guarded.withLock { g in
            g.state.finish()
            return Self.takeWaiter(&g)
        }
        if let (waiter, next) = wake { waiter.resume(returning: next) }
    }

    /// Makes `drain` this queue's writer from now on. Returns it if it has work already.
    func attach(_ drain: any OutboundDrain) -> (any OutboundDrain)? {
        guarded.withLock { g in
            g.drain = drain
            g.state.attachPushWriter()
            return Self.drainToSchedule(&g)
        }
    }

    /// The attached writer's batch (see ``OutboundQueueState/takeForWriting()``).
    func takeForWriting() -> OutboundQueueState.Next {
        guarded.withLock { $0.state.takeForWriting() }
    }

    /// The socket has written `count` bytes the writer took.
    func written(_ count: Int) {
        guarded.withLock { $0.state.written(count) }
    }

    /// The next batch for a pulling writer; suspends while there is nothing to do. Cancelling the
    /// waiting task finishes the queue.
    func next() async -> OutboundQueueState.Next {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: OutboundQueueState.Next? = guarded.withLock { g in
                    let next = g.state.next()
                    if case .wait = next {
                        g.waiter = continuation
                        return nil
                    }
                    return next
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    /// If a pulling writer waits and there is now something for it, hands it over.
    private static func takeWaiter(_ g: inout Guarded) -> (CheckedContinuation<OutboundQueueState.Next, Never>, OutboundQueueState.Next)? {
        guard let waiter = g.waiter else { return nil }
        let next = g.state.next()
        if case .wait = next { return nil }
        g.waiter = nil
        return (waiter, next)
    }

    private static func drainToSchedule(_ g: inout Guarded) -> (any OutboundDrain)? {
        guard let drain = g.drain, g.state.needsDrain() else { return nil }
        return drain
    }
}

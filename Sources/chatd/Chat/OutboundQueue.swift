import NIOCore
import Synchronization

/// The thread-safe shell around ``OutboundQueueState``: the hub enqueues from any thread without
/// waiting, one writer task per session awaits batches.
final class OutboundQueue: Sendable {
    private struct Guarded {
        var state: OutboundQueueState
        var waiter: CheckedContinuation<OutboundQueueState.Next, Never>?
    }

    private let guarded: Mutex<Guarded>

    init(limit: Int) {
        guarded = Mutex(Guarded(state: OutboundQueueState(limit: limit)))
    }

    func enqueue(_ frame: QueuedFrame) -> OutboundQueueState.EnqueueResult {
        let (result, wake) = guarded.withLock { g -> (OutboundQueueState.EnqueueResult, (CheckedContinuation<OutboundQueueState.Next, Never>, OutboundQueueState.Next)?) in
            let result = g.state.enqueue(frame)
            return (result, Self.takeWaiter(&g))
        }
        if let (waiter, next) = wake { waiter.resume(returning: next) }
        return result
    }

    func close(_ reason: CloseReason) {
        let wake = guarded.withLock { g in
            g.state.close(reason)
            return Self.takeWaiter(&g)
        }
        if let (waiter, next) = wake { waiter.resume(returning: next) }
    }

    func finish() {
        let wake = guarded.withLock { g in
            g.state.finish()
            return Self.takeWaiter(&g)
        }
        if let (waiter, next) = wake { waiter.resume(returning: next) }
    }

    /// The next batch for the writer; suspends while there is nothing to do. Cancelling the
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

    /// If the writer waits and there is now something for it, hands it over.
    private static func takeWaiter(_ g: inout Guarded) -> (CheckedContinuation<OutboundQueueState.Next, Never>, OutboundQueueState.Next)? {
        guard let waiter = g.waiter else { return nil }
        let next = g.state.next()
        if case .wait = next { return nil }
        g.waiter = nil
        return (waiter, next)
    }
}

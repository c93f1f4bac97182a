import Logging
import NIOCore
import Synchronization

/// One connected client: who it is, and its bounded outbound queue. The transport behind it
/// (a WebSocket today) drains the queue; everything else only enqueues, and never waits.
/// Fan-outs pass a ``DrainRequests`` along so that the writers they wake are woken once per
/// event loop.
package final class ChatSession: Sendable {
    package let id: UInt64
    package let identity: Accounts.Identity
    package let queue: OutboundQueue
    /// Closes the transport without a handshake: the last resort for a client that stopped
    /// reading and so cannot even be sent its close frame.
    private let abort: @Sendable () -> Void
    private let logger: Logger
    /// When this session last had a typing notice relayed, to keep typing from flooding.
    private let lastTypingMillis = Atomic<Int64>(0)

    /// How long a client closed as a slow consumer has to take its close frame before the
    /// connection is cut.
    package static let abortGraceSeconds: Int64 = 5

    package var account: Account { identity.account }

    private static let nextID = Atomic<UInt64>(1)

    package init(identity: Accounts.Identity, queueLimit: Int, logger: Logger, abortAfter: @escaping @Sendable (TimeAmount) -> Void) {
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.identity = identity
        self.queue = OutboundQueue(limit: queueLimit)
        self.logger = logger
        self.abort = { abortAfter(.seconds(Self.abortGraceSeconds)) }
    }

    /// Queues a frame and wakes the writer at once.
    package func send(_ frame: WireFrame, messageID: Int64 = 0) {
        var drains = DrainRequests()
        send(frame, messageID: messageID, into: &drains)
        drains.schedule()
    }

    /// Queues a frame; the writer to wake, if any, joins `drains`. A queue that overflows closes
    /// the session as a slow consumer.
    package func send(_ frame: WireFrame, messageID: Int64 = 0, into drains: inout DrainRequests) {
        let (result, schedule) = queue.enqueue(QueuedFrame(bytes: frame.bytes, messageID: messageID))
        if case .overflowed = result {
            logger.notice("closing slow consumer", metadata: ["user": "\(account.name)", "session": "\(id)"])
            abort()
        }
        drains.add(schedule)
    }

    /// Makes `writer` drain this session's queue from now on. Live copies of messages up to
    /// `lastID` are dropped: the session's welcome counted them already.
    package func attach(_ writer: any OutboundDrain, skippingMessagesUpTo lastID: Int64 = 0) {
        var drains = DrainRequests()
        drains.add(queue.attach(writer, skippingMessagesUpTo: lastID))
        drains.schedule()
    }

    package func close(_ reason: CloseReason) {
        var drains = DrainRequests()
        drains.add(queue.close(reason))
        drains.schedule()
    }

    /// Whether a typing notice may be relayed now (at most one a second per session).
    package func allowTyping(nowMillis: Int64) -> Bool {
        let last = lastTypingMillis.load(ordering: .relaxed)
        guard nowMillis - last >= 1000 else { return false }
        return lastTypingMillis.compareExchange(expected: last, desired: nowMillis, ordering: .relaxed).exchanged
    }
}

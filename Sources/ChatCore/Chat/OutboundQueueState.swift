import NIOCore

/// Why and how a session is being closed: a WebSocket close code and its reason text.
package struct CloseReason: Sendable, Equatable {
    package var code: UInt16
    package var reason: String

    package static let slowConsumer = CloseReason(code: 1008, reason: "slow consumer")
    package static let goingAway = CloseReason(code: 1001, reason: "server shutting down")
    package static let loggedOut = CloseReason(code: 1008, reason: "logged out")
    package static let unauthorized = CloseReason(code: 1008, reason: "unauthorized")
    package static let binaryRefused = CloseReason(code: 1003, reason: "binary frames are not accepted")
}

/// A frame waiting to be written: its wire bytes (see ``WireFrame``). `messageID` is the id of a
/// live `message` frame (0 for anything else), so that the writer can drop a live copy of a message
/// its welcome already counted.
package struct QueuedFrame: Sendable, Equatable {
    package var bytes: ByteBuffer
    package var messageID: Int64 = 0
}

/// One session's outbound queue as a pure state machine: frames in from the hub, batches out
/// to the socket writer, bounded in bytes. Passing the bound drops the backlog and turns the
/// queue into a close with 1008 "slow consumer": the hub never waits on a slow client and the
/// server never holds more than `limit` bytes for it.
///
/// The writer is pushed to: an attached writer on an event loop is scheduled when the queue goes
/// from idle to having work (``needsDrain()``), takes everything at once (``takeForWriting()``)
/// and writes it with one flush; ``next()`` is the same step without the accounting. Bytes it took stay
/// counted against the bound until the socket has written them (``written(_:)``), so a client
/// that stops reading runs into the bound however the bytes are split between here and the socket.
package struct OutboundQueueState: Sendable {
    package enum Phase: Sendable, Equatable {
        case open
        /// The writer should send this close frame next and stop.
        case closing(CloseReason)
        /// Nothing more will be written.
        case finished
    }

    /// What the writer should do next.
    package enum Next: Sendable, Equatable {
        case write([QueuedFrame])
        case close(CloseReason)
        case finished
        /// Nothing queued: wait for ``enqueue(_:)`` or ``close(_:)``.
        case wait
    }

    package enum EnqueueResult: Sendable, Equatable {
        case queued
        /// The frame was dropped: the queue is closing or finished.
        case dropped
        /// This frame passed the bound; the queue is now closing as a slow consumer.
        case overflowed
    }

    package let limit: Int
    package private(set) var phase: Phase = .open
    package private(set) var frames: [QueuedFrame] = []
    package private(set) var bytes = 0
    /// Bytes taken by a pushed writer that the socket has not written yet.
    package private(set) var inFlight = 0
    /// Whether a writer is attached to be pushed to, and whether it has been scheduled already.
    package private(set) var hasPushWriter = false
    package private(set) var drainScheduled = false
    /// Live copies of messages with ids up to this are dropped: the session's welcome counted
    /// them already. ``ChatService/open(_:)`` registers a session before it reads the welcome, so
    /// that nothing committed in between is missed; what arrives both ways is dropped here.
    package private(set) var skipMessagesUpTo: Int64 = 0

    package init(limit: Int) {
        self.limit = limit
    }

    package mutating func enqueue(_ frame: QueuedFrame) -> EnqueueResult {
        guard case .open = phase else { return .dropped }
        if frame.messageID != 0, frame.messageID <= skipMessagesUpTo { return .queued }
        if bytes + inFlight + frame.bytes.readableBytes > limit {
            frames.removeAll()
            bytes = 0
            phase = .closing(.slowConsumer)
            return .overflowed
        }
        frames.append(frame)
        bytes += frame.bytes.readableBytes
        return .queued
    }

    /// Asks for a close. What is already queued is dropped only for a slow consumer; otherwise the
    /// close goes out after it, so a client shut down by the server still gets every frame it was sent.
    package mutating func close(_ reason: CloseReason) {
        guard case .open = phase else { return }
        phase = .closing(reason)
    }

    /// The reader side ended: stop writing at once.
    package mutating func finish() {
        frames.removeAll()
        bytes = 0
        phase = .finished
    }

    /// Attaches a writer that is pushed to; what queued before it came is its first batch, less
    /// live copies of messages up to `lastID` (the welcome's `last_id`).
    package mutating func attachPushWriter(skippingMessagesUpTo lastID: Int64 = 0) {
        hasPushWriter = true
        skipMessagesUpTo = lastID
        guard lastID > 0 else { return }
        frames.removeAll { frame in
            guard frame.messageID != 0, frame.messageID <= lastID else { return false }
            bytes -= frame.bytes.readableBytes
            return true
        }
    }

    /// Whether the pushed writer must be scheduled now: there is something for it (frames, a close
    /// or the end) and it is not scheduled already. Marks it scheduled.
    package mutating func needsDrain() -> Bool {
        guard hasPushWriter, !drainScheduled else { return false }
        if frames.isEmpty, case .open = phase { return false }
        drainScheduled = true
        return true
    }

    /// The pushed writer's turn: like ``next()``, but the bytes taken stay counted until
    /// ``written(_:)``, and frames queued from now on schedule the writer again.
    package mutating func takeForWriting() -> Next {
        drainScheduled = false
        let next = next()
        if case .write(let taken) = next {
            inFlight += taken.reduce(0) { $0 + $1.bytes.readableBytes }
        }
        return next
    }

    /// The socket wrote `count` bytes of what ``takeForWriting()`` gave out.
    package mutating func written(_ count: Int) {
        inFlight = max(0, inFlight - count)
    }

    package mutating func next() -> Next {
        if !frames.isEmpty {
            defer {
                frames.removeAll(keepingCapacity: true)
                bytes = 0
            }
            return .write(frames)
        }
        switch phase {
        case .open:
            return .wait
        case .closing(let reason):
            phase = .finished
            return .close(reason)
        case .finished:
            return .finished
        }
    }
}

import ChatCore
import Logging
import NIOCore
import Shared

/// The chat on one WebSocket connection: the session's welcome, its client frames into
/// ``ChatService/receive(_:from:)``, and its ``OutboundQueue`` out to the socket.
///
/// A message frame is answered on the event loop as it is read (queued for its group commit,
/// or refused); the rare frame that must wait for the database or for room in the message log
/// holds the session's next frames until it is answered (``WebSocketConnection/waitBeforeNextMessage(_:)``).
///
/// It is the session's ``OutboundDrain``: the hub queues complete wire frames and schedules
/// ``drain()`` on this event loop, which writes everything queued with one flush. The queue
/// itself drops the live copies of messages the welcome counted.
///
/// All its state is touched on ``eventLoop`` only.
final class ChatEndpoint: WebSocketEndpoint, OutboundDrain, @unchecked Sendable {
    let eventLoop: any EventLoop
    private let verdict: ChatWebSocket.Verdict
    private let chat: ChatService
    private let pacer: WritePacer
    private let logger: Logger
    private weak var connection: WebSocketConnection?
    private var session: ChatSession?
    /// The welcome was written: the session is in the hub until the connection ends.
    private var isOpen = false
    private var isEnded = false
    /// When the socket was last written to, and whether a drain waits for the pacer's interval.
    private var lastWrite: NIODeadline?
    private var deferred = false

    init(verdict: ChatWebSocket.Verdict, chat: ChatService, pacer: WritePacer, eventLoop: any EventLoop, logger: Logger) {
        self.verdict = verdict
        self.chat = chat
        self.pacer = pacer
        self.eventLoop = eventLoop
        self.logger = logger
    }

    // MARK: WebSocketEndpoint

    func start(on connection: WebSocketConnection) {
        self.connection = connection
        switch verdict {
        case .failure(let refusal):
            connection.write(CollectionOfOne(FrameEncoder.error(refusal).bytes), promise: nil)
            connection.close(code: CloseReason.unauthorized.code, reason: CloseReason.unauthorized.reason)
        case .success(let identity):
            let session = ChatSession(identity: identity, queueLimit: chat.limits.outboundQueueBytes, logger: logger) {
                [weak connection, eventLoop] delay in
                eventLoop.scheduleTask(in: delay) { connection?.abort() }
            }
            self.session = session
            let chat = chat
            let endpoint = NIOLoopBound(self, eventLoop: eventLoop)
            let eventLoop = eventLoop
            Task {
                do {
                    let welcome = try await chat.open(session)
                    eventLoop.execute { endpoint.value.opened(welcome) }
                } catch {
                    eventLoop.execute { endpoint.value.failedToOpen(error) }
                }
            }
        }
    }

    /// The welcome goes first, then the queue, then the client's frames are read.
    private func opened(_ welcome: (frame: WireFrame, lastID: Int64)) {
        guard let session else { return }
        guard !isEnded, let connection else {
            // closed while the welcome was read
            chat.close(session)
            return
        }
        isOpen = true
        connection.write(CollectionOfOne(welcome.frame.bytes), promise: nil)
        chat.metrics.framesOut.increment()
        session.attach(self, skippingMessagesUpTo: welcome.lastID)
        connection.ready()
    }

    /// ``ChatService/open(_:)`` took the session out of the hub again when it failed.
    private func failedToOpen(_ error: any Error) {
        logger.error("opening a chat session failed", metadata: ["error": "\(error)"])
        session = nil
        connection?.abort()
    }

    func received(_ message: ByteBuffer, binary: Bool, on connection: WebSocketConnection) {
        guard let session else { return }
        guard !binary else {
            session.close(.binaryRefused)
            return
        }
        if case .later(let work) = chat.receive(message.readableBytesView, from: session) {
            connection.waitBeforeNextMessage(work)
        }
    }

    /// Still opening: ``opened(_:)`` takes the session out of the hub once its welcome is read.
    func ended() {
        guard !isEnded else { return }
        isEnded = true
        guard let session else { return }
        session.queue.finish()
        if isOpen { chat.close(session) }
    }

    // MARK: OutboundDrain

    func drain() {
        eventLoop.preconditionInEventLoop()
        guard let session, let connection, !isEnded, !deferred else { return }
        let now = NIODeadline.now()
        let interval = pacer.minimumInterval
        if interval > .zero, let last = lastWrite, now < last + interval {
            // busy server: this socket was written to a moment ago; what queues meanwhile goes
            // out together (the queue stays scheduled, so nobody else wakes this drain)
            deferred = true
            let endpoint = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.scheduleTask(deadline: last + interval) {
                endpoint.value.deferred = false
                endpoint.value.drain()
            }
            return
        }
        while true {
            switch session.queue.takeForWriting() {
            case .write(let frames):
                write(frames, to: connection, queue: session.queue)
                lastWrite = now
                pacer.record(frames.count, now: now)
            case .close(let reason):
                if reason == .slowConsumer { chat.metrics.slowConsumerCloses.increment() }
                connection.close(code: reason.code, reason: reason.reason)
                return
            case .finished, .wait:
                return
            }
        }
    }

    /// Several small frames (a crowd's join notices, a busy chat) are copied into one buffer: a
    /// copy of a few hundred bytes costs less than NIO's bookkeeping for each buffer written.
    private func write(_ frames: [QueuedFrame], to connection: WebSocketConnection, queue: OutboundQueue) {
        let taken = frames.reduce(0) { $0 + $1.bytes.readableBytes }
        chat.metrics.framesOut.increment(by: frames.count)
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in queue.written(taken) }
        if frames.count > 1 && taken <= Self.mergeLimit {
            var merged = ByteBuffer()
            merged.reserveCapacity(taken)
            for frame in frames { merged.writeImmutableBuffer(frame.bytes) }
            connection.write(CollectionOfOne(merged), promise: promise)
        } else {
            connection.write(frames.lazy.map(\.bytes), promise: promise)
        }
    }

    /// Batches up to this many bytes are merged; a larger one (history, a big welcome) is
    /// written as it is, without copying.
    private static let mergeLimit = 16 * 1024
}

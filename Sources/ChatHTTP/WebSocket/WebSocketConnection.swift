import ChatCore
import Logging
import NIOCore
import NIOWebSocket

/// One upgraded WebSocket connection on its socket's event loop: NIO's frame decoder in front,
/// ``WebSocketReader`` deciding what each frame asks for, and a ``WebSocketEndpoint`` behind.
///
/// No task, actor or async sequence per connection or per frame: a message goes to the endpoint
/// on the event loop as it is read. When the endpoint must wait for something
/// (``waitBeforeNextMessage(_:)``), the connection stops reading, so the kernel's buffer, not
/// this process, holds what the client sends meanwhile, and the endpoint sees its messages in
/// order.
///
/// Writes are complete wire frames, written at the frame encoder's pipeline position (they are
/// encoded already: the chat frames a broadcast once for every recipient), and control frames
/// are encoded here, so everything leaves through one position, in order.
///
/// Pings come from the event loop's ``PingWheel``; a connection that did not answer the previous
/// ping is closed. A close the server starts gives the client ``closeTimeout`` to answer.
///
/// All its state is touched on ``eventLoop`` only.
final class WebSocketConnection: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        /// Until the endpoint is ready: nothing is read.
        case opening
        case open
        /// The server's close frame is out; waiting for the client's, or the timeout.
        case closing
        case closed
    }

    let eventLoop: any EventLoop
    private let endpoint: any WebSocketEndpoint
    private let pings: PingWheel?
    private let closeTimeout: TimeAmount
    private let logger: Logger
    private var phase = Phase.opening
    private var reader: WebSocketReader
    /// Where frames are written: the frame encoder's context, skipping the encoder itself.
    private var output: ChannelHandlerContext?
    private var context: ChannelHandlerContext?
    /// The endpoint waits for something: later messages wait in `backlog`, reading stops.
    private var waiting = false
    private var backlog = CircularBuffer<(ByteBuffer, Bool)>()
    private var readRequested = false
    private var pingSlot: Int?
    private var awaitingPong = false
    private var closeTimer: Scheduled<Void>?

    init(endpoint: any WebSocketEndpoint, eventLoop: any EventLoop, maxMessageBytes: Int, pings: PingWheel?,
         closeTimeout: TimeAmount, logger: Logger) {
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        self.reader = WebSocketReader(maxMessageBytes: maxMessageBytes)
        self.pings = pings
        self.closeTimeout = closeTimeout
        self.logger = logger
    }

    // MARK: what endpoints call

    /// The endpoint can take messages: reading starts, and pings.
    func ready() {
        guard phase == .opening else { return }
        phase = .open
        pingSlot = pings?.add(self)
        resume()
    }

    /// Writes complete wire frames, flushing after the last; `promise` completes when the last
    /// is written (writes complete in order).
    func write(_ frames: some Sequence<ByteBuffer>, promise: EventLoopPromise<Void>?) {
        guard let output, phase == .open || phase == .opening else {
            promise?.succeed()
            return
        }
        var last: ByteBuffer?
        for frame in frames {
            if let previous = last { output.write(NIOAny(previous), promise: nil) }
            last = frame
        }
        guard let last else {
            promise?.succeed()
            return
        }
        output.write(NIOAny(last), promise: promise)
        output.flush()
    }

    /// Runs `work` before the endpoint is given another message, and stops reading meanwhile.
    func waitBeforeNextMessage(_ work: @escaping @Sendable () async -> Void) {
        waiting = true
        let connection = NIOLoopBound(self, eventLoop: eventLoop)
        let eventLoop = eventLoop
        Task {
            await work()
            eventLoop.execute {
                connection.value.waiting = false
                connection.value.resume()
            }
        }
    }

    /// Starts the close handshake: the server's close frame goes out (after what was written
    /// before it) and the client has ``closeTimeout`` to answer before the connection is cut.
    func close(code: UInt16, reason: String) {
        guard phase == .open || phase == .opening, let context else { return }
        phase = .closing
        reader.startClosing()
        backlog.removeAll()
        var body = ByteBuffer()
        body.writeInteger(code)
        body.writeString(reason)
        send(Self.controlFrame(.connectionClose, body))
        let channel = context.channel
        closeTimer = eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
    }

    /// Cuts the connection without a handshake.
    func abort() {
        context?.close(promise: nil)
    }

    // MARK: the pipeline

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        endpoint.start(on: self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
        output = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch reader.receive(unwrapInboundIn(data)) {
        case .message(let message, let binary):
            if waiting || phase == .opening {
                backlog.append((message, binary))
            } else if phase == .open {
                endpoint.received(message, binary: binary, on: self)
            }
        case .pong(let data):
            send(Self.controlFrame(.pong, data))
        case .pongReceived:
            awaitingPong = false
        case .fail(let code, let reason):
            close(code: code, reason: reason)
        case .answerClose(let code):
            answerClose(code)
        case .none:
            break
        }
    }

    func read(context: ChannelHandlerContext) {
        if waiting || phase == .opening {
            readRequested = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's protocol error handler, ahead of this one, answers its errors (1002, 1009) and
        // closes once its close frame is out: closing now could cut that frame off
        guard !(error is NIOWebSocketError) else { return }
        logger.debug("WebSocket connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: the rest

    /// Gives the endpoint what waited, then reads again if the channel asked to.
    private func resume() {
        while !waiting, phase == .open, let (message, binary) = backlog.popFirst() {
            endpoint.received(message, binary: binary, on: self)
        }
        if !waiting, phase == .open, readRequested, let context {
            readRequested = false
            context.read()
        }
    }

    /// This connection's turn on the ping wheel: one that did not answer the last ping is
    /// closed, any other is pinged.
    func pingDue() {
        guard phase == .open else { return }
        if awaitingPong {
            logger.debug("closing a WebSocket that missed a pong")
            close(code: 1001, reason: "ping timeout")
            abort()
            return
        }
        awaitingPong = true
        send(Self.emptyPing)
    }

    /// The client closed: answered (unless this was the answer to the server's close) and the
    /// connection ends; the server closes TCP first (RFC 6455 §7.1.1).
    private func answerClose(_ code: UInt16?) {
        guard let context else { return }
        if phase == .open || phase == .opening {
            phase = .closing
            var body = ByteBuffer()
            if let code { body.writeInteger(code) }
            send(Self.controlFrame(.connectionClose, body))
        }
        context.close(promise: nil)
    }

    private func send(_ frame: ByteBuffer) {
        output?.writeAndFlush(NIOAny(frame), promise: nil)
    }

    /// The connection is gone: the endpoint hears it once.
    private func end() {
        guard phase != .closed else { return }
        phase = .closed
        closeTimer?.cancel()
        closeTimer = nil
        if let slot = pingSlot {
            pings?.remove(self, slot: slot)
            pingSlot = nil
        }
        backlog.removeAll()
        endpoint.ended()
    }

    private static let emptyPing = controlFrame(.ping, ByteBuffer())

    /// An unmasked, final control frame; its body is cut to the 125 bytes RFC 6455 allows.
    static func controlFrame(_ opcode: WebSocketOpcode, _ body: ByteBuffer) -> ByteBuffer {
        let allowed = body.getSlice(at: body.readerIndex, length: min(body.readableBytes, 125))!
        return WireFrame(opcode: UInt8(webSocketOpcode: opcode), payload: allowed).bytes
    }
}

import ChatCore
import Metrics
import NIOCore
import NIOWebSocket
import Synchronization

/// Writes one session's queue into its socket, on the socket's event loop.
///
/// The hub schedules ``drain()`` when the queue goes from idle to having work; a drain writes
/// every queued frame and flushes once. The frames are already complete WebSocket frames
/// (``WireFrame``), so they are written at the pipeline position of NIO's frame encoder and go
/// to the socket as they are: one shared buffer per broadcast, no per-session header, copy or
/// task switch. Control frames (pings, pongs, the close handshake) stay with the WebSocket
/// library, through that same encoder, on the same loop, so the order on the wire is the order
/// of the writes.
///
/// A close the queue asks for (server shutdown, logout, slow consumer) is handed to
/// ``closeRequested()`` once every frame queued before it is in the socket, because the close
/// handshake belongs to the library.
package final class SessionWriter: OutboundDrain {
    package let eventLoop: any EventLoop
    private let queue: OutboundQueue
    /// The frame encoder's context: writing through it skips the encoder itself.
    private let encoder: NIOLoopBound<ChannelHandlerContext>
    /// Live copies of messages with ids up to this were already counted in the welcome.
    private let skipUpTo: NIOLoopBoundBox<Int64>
    private let closeSignal = Mutex<CloseSignal>(CloseSignal())
    private let framesOut: Counter

    private struct CloseSignal {
        var fired = false
        var reason: CloseReason?
        var waiter: CheckedContinuation<CloseReason?, Never>?
    }

    package struct EncoderMissing: Error, CustomStringConvertible {
        package var description: String { "the WebSocket pipeline has no frame encoder" }
    }

    private init(eventLoop: any EventLoop, queue: OutboundQueue, encoder: ChannelHandlerContext, skipUpTo: Int64, framesOut: Counter) {
        self.eventLoop = eventLoop
        self.framesOut = framesOut
        self.queue = queue
        self.encoder = NIOLoopBound(encoder, eventLoop: eventLoop)
        self.skipUpTo = NIOLoopBoundBox(skipUpTo, eventLoop: eventLoop)
    }

    /// A writer for the upgraded `channel`, dropping live messages with ids up to `lastID`.
    package static func make(channel: any Channel, queue: OutboundQueue, skippingMessagesUpTo lastID: Int64,
                     framesOut: Counter) async throws -> SessionWriter {
        let loop = channel.eventLoop
        return try await loop.submit {
            guard let context = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self) else {
                throw EncoderMissing()
            }
            return SessionWriter(eventLoop: loop, queue: queue, encoder: context, skipUpTo: lastID, framesOut: framesOut)
        }.get()
    }

    /// Writes one frame ahead of the queue (the welcome) and waits until the socket took it.
    package func write(_ frame: WireFrame) async throws {
        framesOut.increment()
        try await eventLoop.flatSubmit { [encoder] in
            let promise = encoder.value.eventLoop.makePromise(of: Void.self)
            encoder.value.writeAndFlush(NIOAny(frame.bytes), promise: promise)
            return promise.futureResult
        }.get()
    }

    package func drain() {
        eventLoop.preconditionInEventLoop()
        while true {
            switch queue.takeForWriting() {
            case .write(let frames):
                write(frames)
            case .close(let reason):
                signal(reason)
                return
            case .finished:
                signal(nil)
                return
            case .wait:
                return
            }
        }
    }

    /// Waits until the queue asks for a close (its reason) or ends (`nil`).
    package func closeRequested() async -> CloseReason? {
        await withCheckedContinuation { continuation in
            let fired: CloseReason?? = closeSignal.withLock { signal in
                if signal.fired { return .some(signal.reason) }
                signal.waiter = continuation
                return .none
            }
            if let fired { continuation.resume(returning: fired) }
        }
    }

    /// The session is over: a waiting ``closeRequested()`` returns `nil`.
    package func stop() {
        signal(nil)
    }

    private func write(_ frames: [QueuedFrame]) {
        let context = encoder.value
        var taken = 0
        var last: ByteBuffer?
        var count = 0
        for frame in frames {
            taken += frame.bytes.readableBytes
            if frame.messageID != 0 {
                if frame.messageID <= skipUpTo.value { continue }
                skipUpTo.value = 0
            }
            if let previous = last { context.write(NIOAny(previous), promise: nil) }
            last = frame.bytes
            count += 1
        }
        framesOut.increment(by: count)
        guard let last else {
            queue.written(taken)
            return
        }
        let promise = eventLoop.makePromise(of: Void.self)
        context.write(NIOAny(last), promise: promise)
        context.flush()
        // writes complete in order: when the last is written, the whole batch is
        promise.futureResult.whenComplete { [queue] _ in queue.written(taken) }
    }

    private func signal(_ reason: CloseReason?) {
        let waiter = closeSignal.withLock { signal -> CheckedContinuation<CloseReason?, Never>? in
            guard !signal.fired else { return nil }
            signal.fired = true
            signal.reason = reason
            defer { signal.waiter = nil }
            return signal.waiter
        }
        waiter?.resume(returning: reason)
    }
}

import ChatCore
import Logging
import NIOCore
import NIOHTTP1

/// Cuts a connection whose request head does not arrive in time (`--header-timeout`): the
/// defence against slowloris, which holds connections open by sending a request's headers a
/// byte at a time.
///
/// Hummingbird's idle timeout cannot do this. It counts HTTP parts, not bytes, so trickled
/// header bytes never produce a part and never count as idle or as busy; and with the WebSocket
/// upgrade pipeline it is only installed once the first head has arrived, so before that a
/// connection has no timeout at all. This handler sits right behind NIO's HTTP/1 decoder and
/// starts a clock when the connection becomes active and again when a response has ended (a
/// kept-alive connection waiting for its next request). Only a complete head stops it.
///
/// When the clock runs out, a client that sent part of a head is answered
/// `408 Request Timeout` and the connection is closed; a client that sent nothing at all
/// (a connection opened and left, or a kept-alive one not reused) is closed without an answer,
/// since no request is waiting for one and a stray 408 could be read as the answer to a request
/// the client is just sending. A successful WebSocket upgrade removes the handler: from then on
/// the WebSocket's pings watch the connection.
///
/// It also keeps the promise of a response that says `Connection: close` (a refused upload,
/// RFC 9112 §9.6), which Hummingbird does not: the connection is closed once that response is
/// written. If the client is still sending the request's body, the output is closed first and
/// the rest of the body read and dropped until it ends or for ``HTTPRefusal/linger``, so that the
/// client reads the answer before the connection goes (closing with unread input would reset
/// it, and the reset can destroy the answer in the client's buffer).
///
/// A connection whose output was closed (after a refusal, or by Hummingbird after a request that
/// said `Connection: close`) is closed entirely ``HTTPRefusal/linger`` later if the client has
/// not closed it by then. Whoever closes a connection (this handler, ``MalformedRequestResponder``,
/// the client after such a half-close), the handlers behind this one are told `inputClosed` before the
/// connection goes inactive, if NIO did not tell them already: it is the end Hummingbird's
/// upgrade handler expects while waiting for a request, and it takes any other for a failure
/// that Hummingbird logs at error level, once per refused connection.
package final class RequestHeadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPServerRequestPart
    package typealias OutboundIn = HTTPServerResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    /// What the clock is waiting for.
    private enum Wait {
        /// The first head of a new connection.
        case firstHead
        /// The next head on a kept-alive connection.
        case nextHead
    }

    private let timeout: TimeAmount
    private let logger: Logger
    /// Requests whose head has arrived and whose response has not ended.
    private var responsesOwed = 0
    /// Whether a request's body is still being read (between its head and its end).
    private var readingBody = false
    private var waiting: Wait?
    /// Whether any byte arrived since the clock started.
    private var bytesSinceStart = false
    /// The response being written says `Connection: close`.
    private var closeAfterResponse = false
    /// The output is closed: what is still read is dropped, and a request's end ends the connection.
    private var outputClosed = false
    /// The handlers behind this one were told `inputClosed`.
    private var inputClosed = false
    /// The close that follows a closed output.
    private var lingering: Scheduled<Void>?
    private var deadline: Scheduled<Void>?

    package init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(.firstHead, context: context) }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        lingering?.cancel()
    }

    package func channelActive(context: ChannelHandlerContext) {
        if waiting == nil, responsesOwed == 0 { start(.firstHead, context: context) }
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        stop()
        lingering?.cancel()
        if !inputClosed {
            inputClosed = true
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        context.fireChannelInactive()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event as? ChannelEvent {
        case .inputClosed?:
            inputClosed = true
        case .outputClosed?:
            // A refusal's answer is out (here or in MalformedRequestResponder), or Hummingbird is
            // done with the connection (a request that said `Connection: close`): no more clock,
            // and no more reason to keep the connection once the client has had time to read.
            stop()
            outputClosed = true
            if lingering == nil {
                lingering = context.eventLoop.assumeIsolated().scheduleTask(in: HTTPRefusal.linger) {
                    context.close(promise: nil)
                }
            }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if outputClosed {
            // the rest of a refused request: dropped, and its end ends the connection
            if case .end = part {
                stop()
                context.close(promise: nil)
            }
            return
        }
        switch part {
        case .head:
            stop()
            responsesOwed += 1
            readingBody = true
        case .body:
            break
        case .end:
            readingBody = false
            if responsesOwed == 0 { start(.nextHead, context: context) }
        }
        context.fireChannelRead(data)
    }

    /// The decoder passes this on after every read from the socket, including reads that did not
    /// complete a head: the sign that the client is sending something.
    package func channelReadComplete(context: ChannelHandlerContext) {
        if waiting != nil { bytesSinceStart = true }
        context.fireChannelReadComplete()
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status == .switchingProtocols:
            // The upgrade handler removes the HTTP handlers after this; this one goes with them,
            // at once, as WebSocket frames come next. Flushed here: a flush that follows the write
            // would reach this handler after its removal, and go nowhere.
            stop()
            context.write(data, promise: promise)
            context.flush()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        case .head(let head) where head.status.code >= 200:
            closeAfterResponse = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
        case .head, .body:
            break
        case .end:
            responsesOwed = max(0, responsesOwed - 1)
            if closeAfterResponse {
                endConnection(context: context, data: data, promise: promise)
                return
            }
            if responsesOwed == 0, !readingBody { start(.nextHead, context: context) }
        }
        context.write(data, promise: promise)
    }

    /// Writes the last part of a `Connection: close` response, then closes the connection, or
    /// only its output while the client is still sending a body.
    private func endConnection(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.cascade(to: promise)
        context.write(data, promise: written)
        guard readingBody else {
            stop()
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        stop()
        outputClosed = true
        written.futureResult.assumeIsolated().whenComplete { _ in HTTPRefusal.lingerThenClose(context: context) }
    }

    private func start(_ wait: Wait, context: ChannelHandlerContext) {
        stop()
        waiting = wait
        bytesSinceStart = false
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            expire(context: context)
        }
    }

    private func stop() {
        deadline?.cancel()
        deadline = nil
        waiting = nil
    }

    private func expire(context: ChannelHandlerContext) {
        guard let wait = waiting else { return }
        deadline = nil
        waiting = nil
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let seconds = timeout.nanoseconds / 1_000_000_000
        guard bytesSinceStart else {
            switch wait {
            case .firstHead:
                logger.info("closing a connection that sent no request", metadata: ["address": "\(address)", "seconds": "\(seconds)"])
            case .nextHead:
                logger.debug("closing an idle kept-alive connection", metadata: ["address": "\(address)", "seconds": "\(seconds)"])
            }
            context.close(promise: nil)
            return
        }
        logger.notice("request head not complete in time; answering 408 and closing", metadata: [
            "address": "\(address)", "seconds": "\(seconds)",
        ])
        outputClosed = true
        HTTPRefusal.send(.requestTimeout, "The request's headers did not arrive within \(seconds) s.\n",
                         context: context, wrap: wrapOutboundOut)
    }
}

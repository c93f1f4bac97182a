import ChatCore
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Answers a request head that NIO's HTTP/1 decoder refuses: `431 Request Header Fields Too
/// Large` when it passes the decoder's limits (``decoderLimits``: one field,
/// all fields together, or their number), `400 Bad Request` for anything else that does not
/// parse; then it closes the connection and logs the refusal with the client's address.
///
/// Hummingbird answers a parse error itself only once its HTTP handler runs, which, on a
/// connection that may become a WebSocket, is after the first head has been decoded. A first
/// head that does not decode got no answer at all and its connection stayed open, with no
/// timeout, for as long as the client liked. This handler sits right behind the decoder, so it
/// sees every parse error; it stays out of the way of a response already under way (a parse
/// error in a pipelined request while an earlier response is being written), which Hummingbird
/// finishes and then answers with its own 400.
package final class MalformedRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPServerRequestPart
    package typealias OutboundIn = HTTPServerResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    /// The decoder's limits on a request head, given to Hummingbird's configuration. Far above
    /// what a browser, curl or chat-tui sends (a few hundred bytes, a cookie, a bearer token),
    /// and low enough that hundreds of connections each holding a nearly complete head are
    /// a few megabytes.
    package static var decoderLimits: HTTP1Channel.Configuration.DecoderConfiguration {
        .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100)
    }

    private let logger: Logger
    /// A response head was written and its end was not.
    private var responseOpen = false
    /// This handler answered and is closing: anything read or written after its answer is dropped.
    private var refused = false

    package init(logger: Logger) {
        self.logger = logger
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !refused, !responseOpen else {
            context.fireErrorCaught(error)
            return
        }
        if parserError == .invalidEOFState {
            // the client left in the middle of a head: nobody to answer
            context.fireErrorCaught(error)
            return
        }
        refused = true
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let tooLarge = parserError == .headerOverflow
        logger.notice(tooLarge ? "request head too large; answering 431 and closing" : "malformed request head; answering 400 and closing",
                      metadata: ["address": "\(address)", "error": "\(parserError)"])
        if tooLarge {
            let limits = Self.decoderLimits
            HTTPRefusal.send(.requestHeaderFieldsTooLarge,
                             "The request's headers are too large: at most \(limits.maxHeaderFieldCount) fields of up to \(limits.maxHeaderFieldSize) bytes each and \(limits.maxHeaderListSize) bytes together, request line included.\n",
                             context: context, wrap: wrapOutboundOut)
        } else {
            HTTPRefusal.send(.badRequest, "The request is not valid HTTP/1.1.\n", context: context, wrap: wrapOutboundOut)
        }
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // after the answer, input is only waited out
        if !refused { context.fireChannelRead(data) }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !refused else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status == .switchingProtocols:
            // The upgrade handler removes the HTTP handlers after this; this one goes with them,
            // flushing first (see RequestHeadTimeoutHandler).
            context.write(data, promise: promise)
            context.flush()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        case .head(let head):
            if head.status.code >= 200 { responseOpen = true }
        case .body:
            break
        case .end:
            responseOpen = false
        }
        context.write(data, promise: promise)
    }
}

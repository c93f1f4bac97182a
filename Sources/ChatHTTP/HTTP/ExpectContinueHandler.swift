import ChatCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` (RFC 9110 §10.1.1). curl sends it before every upload over
/// 1 MiB and then waits a second for the go-ahead; Hummingbird does not answer it, so without
/// this every large upload would stall for that second.
///
/// A request that declares a body larger than any route accepts gets no go-ahead: the route
/// answers 413 at once and the client never sends the body.
package final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundOut = HTTPResponsePart

    package let largestBody: Int64

    package init(largestBody: Int64) {
        self.largestBody = largestBody
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data),
              let expectation = head.headerFields[.expect], expectation.lowercased() == "100-continue" else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[.expect] = nil
        let declared = head.headerFields[.contentLength].flatMap(Int64.init) ?? 0
        if declared <= largestBody {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

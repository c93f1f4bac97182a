import ChatCore
import NIOCore
import NIOHTTP1

/// The answer written by the handlers that refuse a connection below Hummingbird's router (a
/// request head that came too slowly, one that does not parse or is too large): a short text,
/// the headers every chatd response carries, `Connection: close`, and then the close itself.
package enum HTTPRefusal {
    /// How long a refused client may go on sending after the answer before the connection is
    /// closed anyway (Apache's lingering close waits as long).
    package static let linger = TimeAmount.seconds(2)

    /// Writes the answer, then closes the connection's output at once and the rest of it when
    /// the client has closed its side or ``linger`` has passed. The caller must drop what it
    /// reads meanwhile. Closing both ways at once would reset a connection with unread input (the
    /// rest of an oversized head), and the reset can destroy the answer in the client's buffer
    /// before it is read.
    package static func send(_ status: HTTPResponseStatus, _ text: String, context: ChannelHandlerContext,
                     wrap: (HTTPServerResponsePart) -> NIOAny) {
        let body = context.channel.allocator.buffer(string: text)
        var headers = HTTPHeaders([
            ("Connection", "close"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", String(body.readableBytes)),
        ])
        for (name, value) in SecurityHeaders.forNonHTML {
            headers.add(name: name.rawName, value: value)
        }
        context.write(wrap(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrap(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrap(.end(nil))).assumeIsolated().whenComplete { _ in
            lingerThenClose(context: context)
        }
    }

    /// Closes the output now and everything after ``linger``, unless the client's end of input
    /// (which closes the connection) comes first.
    package static func lingerThenClose(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        context.close(mode: .output, promise: nil)
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: linger) {
            context.close(promise: nil)
        }
        context.channel.closeFuture.whenComplete { _ in deadline.cancel() }
    }

}

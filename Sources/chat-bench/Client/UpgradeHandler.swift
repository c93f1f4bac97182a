import NIOCore
import NIOWebSocket

/// Opens the WebSocket by hand: writes the `GET /ws` upgrade request, waits for the `101`, then
/// replaces itself with NIO's frame decoder and encoder and the ``BenchConnection``. Nothing of
/// HTTP stays in the pipeline, so each connection costs the generator as little as possible.
final class UpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let request: String
    private let connection: BenchConnection
    private var received: ByteBuffer?

    init(host: String, port: Int, token: String, connection: BenchConnection) {
        request = "GET /ws?token=\(token) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        self.connection = connection
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
        guard var buffer = received,
              let end = buffer.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
        let headLength = end.upperBound - buffer.readableBytesView.startIndex
        let head = buffer.readString(length: headLength) ?? ""
        guard head.hasPrefix("HTTP/1.1 101") else {
            connection.failed(BenchError("upgrade refused: \(head.split(separator: "\r\n").first ?? "")"))
            context.close(promise: nil)
            return
        }
        do {
            try context.pipeline.syncOperations.addHandlers(
                [ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 22)), WebSocketFrameEncoder(), connection],
                position: .after(self))
        } catch {
            connection.failed(error)
            context.close(promise: nil)
            return
        }
        received = nil
        if buffer.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffer))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.failed(error)
        context.close(promise: nil)
    }
}

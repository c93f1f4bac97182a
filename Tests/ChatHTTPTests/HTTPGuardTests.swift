import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatTLS
@testable import ChatHTTP
import ChatTestSupport


/// Stands in for a socket's half-close, which an embedded channel does not have (it closes
/// entirely on any close): records a close of the output and keeps the channel open.
final class HalfCloseRecorder: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    private(set) var outputClosed = false

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else {
            context.close(mode: mode, promise: promise)
            return
        }
        outputClosed = true
        promise?.succeed(())
        context.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelEvent.outputClosed)   // as NIO's sockets do
    }
}

/// The handlers ``GuardedHTTPChannel`` puts into every HTTP connection, on an embedded channel
/// with NIO's real HTTP/1 decoder and encoder in front, on a clock the tests move by hand.
@Suite("HTTP connection guards")
struct HTTPGuardTests {
    static let timeout = TimeAmount.seconds(10)

    /// The connection as chatd builds it up to the point where Hummingbird's handlers begin.
    func connection(halfClose: HalfCloseRecorder? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let pipeline = channel.pipeline.syncOperations
        let logger = Logger(label: "test")
        if let halfClose { try pipeline.addHandler(halfClose) }
        try pipeline.addHandler(OutputStallHandler(timeout: Self.timeout, logger: logger))
        try pipeline.addHandler(HTTPResponseEncoder())
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = MalformedRequestResponder.decoderLimits.maxHeaderFieldSize
        limits.maxHeaderListSize = MalformedRequestResponder.decoderLimits.maxHeaderListSize
        limits.maxHeaderFieldCount = MalformedRequestResponder.decoderLimits.maxHeaderFieldCount
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits)))
        try pipeline.addHandler(MalformedRequestResponder(logger: logger))
        try pipeline.addHandler(RequestHeadTimeoutHandler(timeout: Self.timeout, logger: logger))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 4711)).wait()
        return channel
    }

    func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything written to the socket so far, as text.
    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// What reached the handlers behind the guards (Hummingbird's place).
    func requestParts(_ channel: EmbeddedChannel) throws -> [HTTPServerRequestPart] {
        var parts: [HTTPServerRequestPart] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            parts.append(part)
        }
        return parts
    }

    func respond(_ channel: EmbeddedChannel, headers: HTTPHeaders = ["Content-Length": "0"]) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
    }

    @Test func aHeadTrickledTooSlowlyIsAnswered408AndClosed() throws {
        let halfClose = HalfCloseRecorder()
        let channel = try connection(halfClose: halfClose)
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("GET /healthz HTTP/1.1\r\nHost: x\r\n", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try send("X-Slow: a", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        let answer = try written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
        #expect(answer.contains("Connection: close\r\n") && answer.contains("X-Content-Type-Options: nosniff\r\n"))
        // the output is closed at once, the rest after the linger; what comes meanwhile is dropped
        #expect(halfClose.outputClosed && channel.isActive)
        try send("\r\n\r\n", to: channel)
        channel.embeddedEventLoop.advanceTime(by: HTTPRefusal.linger)
        #expect(!channel.isActive)
        #expect(try requestParts(channel).isEmpty, "no request reached the router")
    }

    @Test func aConnectionThatSendsNothingIsClosedWithoutAnswer() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        channel.embeddedEventLoop.advanceTime(by: Self.timeout - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        #expect(try written(channel) == "")
    }

    @Test func aWholeHeadStopsTheClockUntilItsResponseEnds() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try send("GET /api/files/big HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        let parts = try requestParts(channel)
        #expect(parts.count == 2, "head and end reach the router")
        // a long response: no clock while it is written
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        try respond(channel)
        #expect(try written(channel).hasPrefix("HTTP/1.1 200 OK"))
        // then the next head has the timeout again, and an idle kept-alive connection goes quietly
        channel.embeddedEventLoop.advanceTime(by: Self.timeout)
        #expect(!channel.isActive)
        #expect(try written(channel) == "")
    }

    @Test func aKeptAliveConnectionGetsTheTimeoutForEachHead() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        try respond(channel)
        _ = try written(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try send("GET /healthz HTTP/1.1\r\nHo", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try written(channel).hasPrefix("HTTP/1.1 408"))
    }

    @Test func aResponseThatSaysCloseClosesTheConnection() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        try respond(channel, headers: ["Content-Length": "0", "Connection": "close"])
        #expect(!channel.isActive)
    }

    @Test func aRefusedBodyIsReadAndDroppedUntilItEnds() throws {
        let halfClose = HalfCloseRecorder()
        let channel = try connection(halfClose: halfClose)
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("PUT /api/files/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", to: channel)
        #expect(try requestParts(channel).count == 1)
        try respond(channel, headers: ["Content-Length": "0", "Connection": "close"])
        #expect(halfClose.outputClosed, "the answer is followed by the end of output")
        #expect(channel.isActive, "still reading the body the client is sending")
        try send("01234", to: channel)
        #expect(try requestParts(channel).isEmpty, "dropped")
        try send("56789", to: channel)
        #expect(!channel.isActive, "closed at the body's end")
    }

    /// Hummingbird closes its side after a request that said `Connection: close`, then waits for
    /// the client: one that never closes is let go after the linger.
    @Test func aClientThatOutstaysItsConnectionCloseIsLetGo() throws {
        let halfClose = HalfCloseRecorder()
        let channel = try connection(halfClose: halfClose)
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", to: channel)
        try respond(channel)
        channel.close(mode: .output, promise: nil)
        #expect(halfClose.outputClosed && channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: HTTPRefusal.linger)
        #expect(!channel.isActive)
    }

    @Test func anUpgradeRemovesTheGuards() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", to: channel)
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols)))
        #expect(try written(channel).hasPrefix("HTTP/1.1 101"))
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: RequestHeadTimeoutHandler.self) }
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: MalformedRequestResponder.self) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive, "a WebSocket is not timed by the head timeout")
    }

    /// Heads just over each of the decoder's limits.
    static let oversizedHeads: [(String, String)] = {
        let long = String(repeating: "a", count: 17 * 1024)
        let manyFields = (0..<101).map { (n: Int) -> String in "X-\(n): a\r\n" }.joined()
        let wide = String(repeating: "b", count: 15 * 1024)
        let tooMuch = (0..<3).map { (n: Int) -> String in "X-\(n): \(wide)\r\n" }.joined()
        return [
            ("a long line", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(long)\r\n\r\n"),
            ("a long request line", "GET /\(long) HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("many fields", "GET /healthz HTTP/1.1\r\n\(manyFields)\r\n"),
            ("too much altogether", "GET /healthz HTTP/1.1\r\n\(tooMuch)\r\n"),
        ]
    }()

    @Test(arguments: oversizedHeads)
    func aHeadOverTheLimitsIs431(_ what: String, _ request: String) throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send(request, to: channel)
        let answer = try written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(what): \(answer.prefix(80))")
        #expect(answer.contains("Connection: close\r\n"))
        #expect(try requestParts(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: HTTPRefusal.linger)
        #expect(!channel.isActive)
    }

    @Test func aHeadJustUnderTheLimitsPasses() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        let short = (0..<99).map { (n: Int) -> String in "X-\(n): a\r\n" }.joined()
        let long = String(repeating: "c", count: 15 * 1024)
        try send("GET /healthz HTTP/1.1\r\n\(short)X-Long: \(long)\r\n\r\n", to: channel)
        #expect(try written(channel) == "")
        #expect(try requestParts(channel).count == 2)
    }

    @Test func garbageIs400() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("HELLO?\r\n\r\n", to: channel)
        #expect(try written(channel).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    }

    @Test func aClientThatStopsReadingIsCut() throws {
        let channel = try connection()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }  // breaks the pipeline's cycle
        try send("GET /api/files/big HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: Self.timeout - .seconds(1))
        // it read a little: the clock starts again from the next stall
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: Self.timeout - .seconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }
}

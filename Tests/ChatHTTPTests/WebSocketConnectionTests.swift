import NIOCore
import NIOEmbedded
import NIOWebSocket
import Synchronization
import Testing
@testable import ChatHTTP

/// ``WebSocketConnection`` on an embedded channel: what it reads, holds, answers and closes,
/// without a socket.
@Suite("WebSocket connection")
struct WebSocketConnectionTests {
    /// Records what the connection hands over; a message "wait" makes it wait for `gate`.
    final class Recorder: WebSocketEndpoint, @unchecked Sendable {
        var received: [String] = []
        var ends = 0
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let waiting = Atomic<Bool>(false)

        func start(on connection: WebSocketConnection) {
            connection.ready()
        }

        func received(_ message: ByteBuffer, binary: Bool, on connection: WebSocketConnection) {
            received.append(String(buffer: message))
            if String(buffer: message) == "wait" {
                connection.waitBeforeNextMessage { [self] in
                    await withCheckedContinuation { continuation in
                        gate.withLock { $0 = continuation }
                        waiting.store(true, ordering: .sequentiallyConsistent)
                    }
                }
            }
        }

        func ended() {
            ends += 1
        }

        func open() {
            gate.withLock { $0 }?.resume()
        }
    }

    /// Counts the reads the connection lets through to the socket.
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    let channel = EmbeddedChannel()
    let recorder = Recorder()
    let counter = ReadCounter()

    init() throws {
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
        try channel.pipeline.syncOperations.addHandler(WebSocketConnection(
            endpoint: recorder, eventLoop: channel.eventLoop, maxMessageBytes: 64, pings: nil, closeTimeout: .seconds(5),
            logger: .init(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    func text(_ string: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: string))
    }

    /// Every byte written so far.
    func written() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    @Test func whileTheEndpointWaitsLaterMessagesAndReadsAreHeld() async throws {
        try channel.writeInbound(text("one"))
        try channel.writeInbound(text("wait"))
        try channel.writeInbound(text("three"))
        channel.read()
        #expect(recorder.received == ["one", "wait"], "the third waits for the second's answer")
        #expect(counter.reads == 0, "no read reaches the socket meanwhile")

        while !recorder.waiting.load(ordering: .sequentiallyConsistent) { await Task.yield() }
        recorder.open()
        for _ in 0..<1000 where recorder.received.count < 3 {
            await Task.yield()
            channel.embeddedEventLoop.run()
        }
        #expect(recorder.received == ["one", "wait", "three"])
        #expect(counter.reads == 1, "the held read goes through once the answer is in")
    }

    @Test func aMissedPongClosesWith1001() throws {
        let connection = try channel.pipeline.syncOperations.handler(type: WebSocketConnection.self)
        connection.pingDue()
        #expect(try written() == [0x89, 0x00], "an empty ping")
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer()))
        connection.pingDue()
        #expect(try written() == [0x89, 0x00], "answered: pinged again")
        connection.pingDue()
        #expect(try written() == [0x88, 14, 0x03, 0xE9] + Array("ping timeout".utf8))
        #expect(!channel.isActive)
        #expect(recorder.ends == 1)
    }

    @Test func aClientCloseIsAnsweredWithItsCodeAndEnds() throws {
        var body = ByteBuffer()
        body.writeInteger(UInt16(1000))
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: body))
        #expect(try written() == [0x88, 2, 0x03, 0xE8])
        #expect(!channel.isActive)
        #expect(recorder.ends == 1)
    }

    @Test func theServersCloseWaitsForTheAnswerThenCuts() throws {
        let connection = try channel.pipeline.syncOperations.handler(type: WebSocketConnection.self)
        connection.close(code: 1001, reason: "bye")
        #expect(try written() == [0x88, 5, 0x03, 0xE9] + Array("bye".utf8))
        try channel.writeInbound(text("late"))
        #expect(recorder.received.isEmpty, "nothing is read after the server's close")
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "cut after the close timeout")
        #expect(recorder.ends == 1)
    }

    @Test func aMessageOverTheLimitIs1009() throws {
        try channel.writeInbound(text(String(repeating: "x", count: 65)))
        #expect(try written() == [0x88, 2, 0x03, 0xF1])
        #expect(recorder.received.isEmpty)
    }
}

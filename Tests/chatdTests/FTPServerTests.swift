import NIOCore
import NIOPosix
import FTPProtocol
import Testing
@testable import chatd
@testable import ChatCore
@testable import ChatFTP
import ChatTestSupport


/// A minimal FTP control connection for in-process tests: sends a line, reads one reply (all of
/// its lines). The end-to-end tests use real clients; this one only needs to see codes.
struct FTPTestClient {
    let channel: NIOAsyncChannel<FTPLine, ByteBuffer>
    private var lines: NIOAsyncChannelInboundStream<FTPLine>.AsyncIterator
    private let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>

    static func connect(port: Int) async throws -> FTPTestClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FTPLineDecoder()))
                    return try NIOAsyncChannel<FTPLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return FTPTestClient(channel: channel)
    }

    private init(channel: NIOAsyncChannel<FTPLine, ByteBuffer>) {
        self.channel = channel
        // The test owns the channel for its whole life; executeThenClose would scope it to a closure.
        self.lines = channel.inbound.makeAsyncIterator()
        self.writer = channel.outbound
    }

    /// The next reply's code, or `nil` once the server closed the connection.
    mutating func reply() async throws -> Int? {
        var code: Int?
        while case .line(let bytes)? = try await lines.next() {
            let text = String(buffer: bytes).trimmingCharacters(in: .newlines)
            guard text.count >= 4, let value = Int(text.prefix(3)) else { continue }
            if code == nil { code = value }
            if value == code, text.dropFirst(3).first == " " { return code }
        }
        return nil
    }

    mutating func send(_ line: String) async throws -> Int? {
        try await writer.write(ByteBuffer(string: line + "\r\n"))
        return try await reply()
    }
}

@Suite("FTP server in-process", .serialized)
struct FTPServerTests {
    @Test func loginThroughTheSharedAccountsAndShutdownSays421() async throws {
        let server = try await TestServer.start()
        _ = try await server.login("alice", "correct horse")
        let port = try #require(server.handle.ftpPort)
        var client = try await FTPTestClient.connect(port: port)
        #expect(try await client.reply() == 220)
        #expect(try await client.send("USER alice") == 331)
        #expect(try await client.send("PASS correct horse") == 230)
        #expect(try await client.send("PWD") == 257)

        var stranger = try await FTPTestClient.connect(port: port)
        #expect(try await stranger.reply() == 220)
        #expect(try await stranger.send("USER nobody") == 331)
        #expect(try await stranger.send("PASS whatever1") == 530, "FTP never creates accounts")

        try await server.stop()
        #expect(try await client.reply() == 421, "told why before the connection closes")
        #expect(try await client.reply() == nil)
    }

    @Test func connectionsPerAddressAreCounted() {
        let connections = ConnectionsPerAddress(limit: 2)
        #expect(connections.acquire("10.0.0.1") && connections.acquire("10.0.0.1"))
        #expect(!connections.acquire("10.0.0.1"))
        #expect(connections.acquire("10.0.0.2"), "another address has its own count")
        connections.release("10.0.0.1")
        #expect(connections.acquire("10.0.0.1"))
    }
}

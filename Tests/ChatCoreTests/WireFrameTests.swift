import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Shared
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


@Suite("Wire frames")
struct WireFrameTests {
    /// NIO's decoder, which nobody here wrote, must read our hand-made headers at every length class.
    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536, 300_000])
    func nioDecodesTheFrame(length: Int) throws {
        let json = ByteBuffer(repeating: UInt8(ascii: "x"), count: length)
        let wire = WireFrame(text: json)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(wire.bytes)
        let frame = try #require(try channel.readInbound(as: WebSocketFrame.self))
        #expect(frame.fin && frame.opcode == .text && frame.maskKey == nil)
        #expect(frame.data == json)
        #expect(wire.payload == json)
        #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
    }

    @Test func encoderFramesJSON() throws {
        let wire = FrameEncoder.error(.init(.tooLong, "x"))
        #expect(try decode(wire) == .error(code: .tooLong, message: "x", clientID: nil))
    }
}

@Suite("Welcome encoding")
struct WelcomeEncodingTests {
    @Test func splicedUserListDecodesLikeTheEncodedOne() throws {
        let accounts = [Account(id: 1, name: "Alice"), Account(id: 2, name: "bob.b-_9"), Account(id: 3, name: "we\"ird\\ü")]
        let users = UserListEncoder.encode(accounts) { $0 != 2 }
        let welcome = ServerFrame.Welcome(
            username: "Alice", users: [], unread: ["broadcast": 2], lastID: 7,
            limits: ServerLimits(messageChars: 4000, fileBytes: 1 << 30), server: #"chatd "users":[] test"#)
        let frame = try decode(FrameEncoder.welcome(welcome, users: users))
        var expected = welcome
        expected.users = [UserPresence(name: "Alice", online: true), UserPresence(name: "bob.b-_9", online: false),
                          UserPresence(name: "we\"ird\\ü", online: true)]
        #expect(frame == .welcome(expected))
    }

    /// One template serves welcomes with any presence: each encodes only its own.
    @Test func aTemplateEncodesEachPresence() throws {
        let accounts = [Account(id: 1, name: "a"), Account(id: 2, name: "b"), Account(id: 3, name: "c")]
        let template = UserListEncoder.Template(accounts)
        for online: Set<Int64> in [[], [2], [1, 3], [1, 2, 3]] {
            let users = try JSONDecoder().decode([UserPresence].self, from: Data(template.encode(isOnline: online.contains).readableBytesView))
            #expect(users == accounts.map { UserPresence(name: $0.name, online: online.contains($0.id)) })
        }
    }

    @Test func emptyRoster() throws {
        let users = UserListEncoder.encode([]) { _ in true }
        #expect(String(buffer: users) == "[]")
    }
}

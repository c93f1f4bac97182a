import Foundation
import Shared
import Testing

@Suite("Server frames")
struct ServerFrameTests {
    func roundTrip(_ frame: ServerFrame) throws -> ServerFrame {
        try JSONDecoder().decode(ServerFrame.self, from: JSONEncoder().encode(frame))
    }

    @Test func everyFrameRoundTrips() throws {
        let message = ChatMessage(id: 9, from: "alice", to: nil, message: "hi", ts: "2026-11-21T09:30:00.123Z", clientID: "c")
        let frames: [ServerFrame] = [
            .welcome(.init(username: "alice", users: [.init(name: "alice", online: true)], unread: ["bob": 2], lastID: 9,
                           limits: .init(messageChars: 4000, fileBytes: 1 << 30), server: "chatd")),
            .message(message),
            .info(.init(event: .join, user: "bob")),
            .users([.init(name: "bob", online: false)]),
            .history(.init(chat: "broadcast", messages: [message], hasMore: true)),
            .read(chat: "bob", upTo: 4),
            .typing(from: "bob"),
            .error(code: .rateLimited, message: "slow down", clientID: "c"),
        ]
        for frame in frames {
            #expect(try roundTrip(frame) == frame)
        }
    }

    @Test func broadcastMessageHasExplicitNullRecipient() throws {
        let data = try JSONEncoder().encode(ServerFrame.message(ChatMessage(id: 1, from: "a", to: nil, message: "m", ts: "t")))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["to"] is NSNull)
        #expect(object?["is_direct"] as? Bool == false)
        #expect(object?["type"] as? String == "message")
        #expect(object?["client_id"] == nil)
    }

    @Test func infoMessagesReadNaturally() {
        #expect(ServerFrame.Info(event: .join, user: "alice").message == "alice joined")
        #expect(ServerFrame.Info(event: .leave, user: "alice").message == "alice left")
    }

    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(Timestamp.rfc3339(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(millis: 1_795_253_400_123) == "2026-11-21T09:30:00.123Z")
    }
}

import Foundation
import Shared
import Testing

@Suite("Client frame parsing")
struct ClientFrameTests {
    func parse(_ json: String, maxChars: Int = 4000) -> Result<ClientFrame, FrameRejection> {
        ClientFrame.parse(Array(json.utf8), maxMessageChars: maxChars)
    }

    func rejection(_ json: String, maxChars: Int = 4000) -> FrameRejection? {
        if case .failure(let rejection) = parse(json, maxChars: maxChars) { return rejection }
        return nil
    }

    @Test func broadcastIsTrimmedAndKeepsClientID() throws {
        #expect(try parse(#"{"type":"broadcast","message":"  hi\n","client_id":"c-1"}"#).get() == .broadcast(message: "hi", clientID: "c-1"))
    }

    @Test func direct() throws {
        #expect(try parse(#"{"type":"direct","to":"bob","message":"yo"}"#).get() == .direct(to: "bob", message: "yo", clientID: nil))
    }

    @Test func legacyFramesWithoutType() throws {
        #expect(try parse(#"{"message":"all"}"#).get() == .broadcast(message: "all", clientID: nil))
        #expect(try parse(#"{"to":"bob","message":"one"}"#).get() == .direct(to: "bob", message: "one", clientID: nil))
    }

    @Test func usersTypingReadHistory() throws {
        #expect(try parse(#"{"type":"users"}"#).get() == .users)
        #expect(try parse(#"{"type":"typing","to":"bob"}"#).get() == .typing(to: "bob"))
        #expect(try parse(#"{"type":"read","chat":"broadcast","up_to":12}"#).get() == .read(chat: .broadcast, upTo: 12))
        #expect(try parse(#"{"type":"history","chat":"Bob"}"#).get() == .history(chat: .direct("Bob"), before: nil, limit: 50))
        #expect(try parse(#"{"type":"history","chat":"broadcast","before":7,"limit":200}"#).get() == .history(chat: .broadcast, before: 7, limit: 200))
    }

    @Test(arguments: [0, 201, -1])
    func historyLimitOutOfRange(limit: Int) {
        #expect(rejection(#"{"type":"history","chat":"broadcast","limit":\#(limit)}"#)?.error.code == .badRequest)
    }

    @Test func historyLimitBoundsAccepted() throws {
        #expect(throws: Never.self) { try parse(#"{"type":"history","chat":"broadcast","limit":1}"#).get() }
        #expect(rejection(#"{"type":"history","chat":"broadcast","limit":1.5}"#)?.error.code == .badRequest)
        #expect(rejection(#"{"type":"history","chat":"broadcast","before":0}"#)?.error.code == .badRequest)
    }

    @Test func unknownTypeKeepsConnectionUsable() {
        let r = rejection(#"{"type":"shout","message":"x","client_id":"k"}"#)
        #expect(r?.error.code == .unknownType)
        #expect(r?.clientID == "k")
    }

    @Test func malformedAndWronglyTyped() {
        #expect(rejection("not json")?.error.code == .badRequest)
        #expect(rejection("[1,2]")?.error.code == .badRequest)
        #expect(rejection(#"{"type":"broadcast"}"#)?.error.message == "missing field 'message'")
        #expect(rejection(#"{"type":"broadcast","message":5}"#)?.error.message == "field 'message' must be a string, not number")
        #expect(rejection(#"{"type":"direct","message":"x"}"#)?.error.message == "missing field 'to'")
        #expect(rejection(#"{"type":"read","chat":"broadcast"}"#)?.error.code == .badRequest)
        #expect(rejection(#"{"type":7}"#)?.error.code == .badRequest)
    }

    @Test func clientIDLimit() {
        let ok = String(repeating: "a", count: 64)
        #expect((try? parse(#"{"type":"broadcast","message":"x","client_id":"\#(ok)"}"#).get()) == .broadcast(message: "x", clientID: ok))
        let long = rejection(#"{"type":"broadcast","message":"x","client_id":"\#(ok)b"}"#)
        #expect(long?.error.code == .badRequest)
        #expect(long?.clientID == nil)
        #expect(rejection(#"{"type":"broadcast","message":"x","client_id":3}"#)?.error.code == .badRequest)
    }

    @Test func messageRulesCarryClientID() {
        let empty = rejection(#"{"type":"broadcast","message":" \n\t ","client_id":"e"}"#)
        #expect(empty?.error.code == .empty)
        #expect(empty?.clientID == "e")
        #expect(rejection(#"{"type":"broadcast","message":"abcd"}"#, maxChars: 3)?.error.code == .tooLong)
        #expect(rejection(#"{"type":"broadcast","message":"a\u0007b"}"#)?.error.code == .badRequest)
    }

    @Test(arguments: [
        ClientFrame.broadcast(message: "héllo 👋", clientID: "c-9"),
        .broadcast(message: "no id", clientID: nil),
        .direct(to: "bob", message: "line one\nline two", clientID: nil),
        .users,
        .history(chat: .broadcast, before: 42, limit: 50),
        .history(chat: .direct("carol"), before: nil, limit: 1),
        .read(chat: .direct("bob"), upTo: 7),
        .typing(to: "bob"),
    ])
    func encodingIsWhatTheParserReads(frame: ClientFrame) throws {
        let json = try JSONEncoder().encode(frame)
        #expect(try ClientFrame.parse(Array(json), maxMessageChars: 4000).get() == frame)
    }

    @Test func encodedFieldNamesAreTheProtocols() throws {
        let json = String(decoding: try JSONEncoder().encode(ClientFrame.read(chat: .broadcast, upTo: 3)), as: UTF8.self)
        #expect(json.contains(#""up_to":3"#) && json.contains(#""chat":"broadcast""#) && json.contains(#""type":"read""#))
    }
}

import Shared
import Testing

@testable import chat_tui

/// Losing the connection, counting down, reconnecting, and catching up on what was missed
/// through `history`: nothing lost, nothing shown twice.
@Suite("Reconnect and catch-up")
struct ReconnectTests {
    /// Disconnects and runs the countdown to the next `.connect`, then reconnects as alice.
    func reconnect(_ model: inout ChatModel, unread: [String: Int] = [:], lastID: Int64) -> [ChatEffect] {
        _ = model.handle(.disconnected(reason: "connection lost"))
        var effects: [ChatEffect] = []
        while effects.isEmpty { effects = model.handle(.tick) }
        #expect(effects == [.connect])
        return model.feed(.connected, Fixture.welcome(unread: unread, lastID: lastID))
    }

    @Test func countsDownThenConnectsWithGrowingDelays() {
        var model = Fixture.online()
        #expect(model.handle(.disconnected(reason: "connection lost")).isEmpty)
        #expect(model.connection == .reconnecting(attempt: 2, secondsLeft: 1, reason: "connection lost"))
        #expect(model.connection.label == "connection lost; reconnecting in 1 s (attempt 2)")
        #expect(model.handle(.tick) == [.connect])
        #expect(model.connection == .connecting(attempt: 2))

        _ = model.handle(.disconnected(reason: "refused"))
        #expect(model.connection == .reconnecting(attempt: 3, secondsLeft: 2, reason: "refused"))
        #expect(model.handle(.disconnected(reason: "again")).isEmpty, "one failure counts once")
        #expect(model.handle(.tick).isEmpty)
        #expect(model.handle(.tick) == [.connect])
        _ = model.handle(.disconnected(reason: "refused"))
        #expect(model.connection == .reconnecting(attempt: 4, secondsLeft: 4, reason: "refused"))

        while model.handle(.tick).isEmpty {}
        _ = model.feed(.connected, Fixture.welcome())
        #expect(model.connection == .online)
        _ = model.handle(.disconnected(reason: "lost"))
        #expect(model.connection == .reconnecting(attempt: 2, secondsLeft: 1, reason: "lost"), "a session resets the backoff")
    }

    @Test func jitteredDelaysAreWholeSecondsOfAtLeastOne() {
        var model = ChatModel(server: "s", clientIDPrefix: "t-", jitter: { 0 })
        var waits: [Int] = []
        for _ in 0..<8 {
            _ = model.handle(.disconnected(reason: "down"))
            if case .reconnecting(_, let seconds, _) = model.connection { waits.append(seconds) }
            while model.handle(.tick).isEmpty {}
        }
        #expect(waits == [1, 1, 2, 4, 8, 16, 30, 30])
    }

    @Test func refusedForGoodStopsRetrying() {
        var model = Fixture.online()
        _ = model.handle(.disconnected(reason: "token revoked", willRetry: false))
        #expect(model.connection == .offline(reason: "token revoked"))
        #expect((0..<100).flatMap { _ in model.handle(.tick) }.isEmpty)
    }

    @Test func catchUpOverlapsWithoutDuplicates() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...10))
        let effects = reconnect(&model, unread: ["broadcast": 5], lastID: 15)
        #expect(effects.historyRequests == [.history(chat: .broadcast, before: nil, limit: ChatModel.catchUpPageSize)])
        #expect(model.activeChat.unread == 5)

        let answer = model.handle(Fixture.history("broadcast", Fixture.broadcast(6...15), hasMore: true))
        #expect(answer.historyRequests.isEmpty, "the page reached back into what was held: caught up")
        #expect(model.activeChat.messages.messages.map(\.id) == Array(1...15))
        #expect(answer.reads == [.read(chat: .broadcast, upTo: 15)])
        #expect(model.activeChat.unread == 0)

        let late = model.handle(.frame(.message(Fixture.message(15))))
        #expect(late.isEmpty)
        #expect(model.activeChat.messages.count == 15, "a live copy of a message already fetched is dropped")
    }

    @Test func catchUpPagesBackUntilItMeetsWhatItHeld() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...10))
        model.messageLimit = 1000
        _ = reconnect(&model, lastID: 500)
        #expect(model.handle(Fixture.history("broadcast", Fixture.broadcast(301...500), hasMore: true)).historyRequests
            == [.history(chat: .broadcast, before: 301, limit: ChatModel.catchUpPageSize)])
        // A live message during the catch-up lands in order and is not fetched twice.
        _ = model.handle(.frame(.message(Fixture.message(501))))
        #expect(model.handle(Fixture.history("broadcast", Fixture.broadcast(101...300), hasMore: true)).historyRequests
            == [.history(chat: .broadcast, before: 101, limit: ChatModel.catchUpPageSize)])
        #expect(model.handle(Fixture.history("broadcast", Fixture.broadcast(1...100), hasMore: false)).historyRequests.isEmpty)
        #expect(model.activeChat.messages.messages.map(\.id) == Array(1...501))
    }

    @Test func aHugeGapKeepsTheNewestAndLeavesTheRestToScrollback() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...10))
        model.messageLimit = 300
        _ = reconnect(&model, lastID: 1000)
        _ = model.handle(Fixture.history("broadcast", Fixture.broadcast(801...1000), hasMore: true))
        let second = model.handle(Fixture.history("broadcast", Fixture.broadcast(601...800), hasMore: true))
        #expect(second.historyRequests.isEmpty, "more than a tab holds: stop paging")
        #expect(model.activeChat.messages.messages.map(\.id) == Array(701...1000),
                "the newest that fit, with no silent hole between 10 and what follows")
        #expect(model.activeChat.olderAvailable)
        let top = model.handle(.key(.home))
        #expect(top.historyRequests == [.history(chat: .broadcast, before: 701, limit: ChatModel.pageSize)])
    }

    @Test func nothingMissedNothingFetched() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...10))
        let effects = reconnect(&model, lastID: 10)
        #expect(effects.historyRequests.isEmpty)
        #expect(effects.contains(.fetchFiles), "file events may have been missed all the same")
    }

    @Test func directChatsCatchUpToo() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...10))
        _ = model.handle(.frame(.message(Fixture.message(11, from: "bob", to: "alice"))))
        _ = model.handle(Fixture.history("bob", [Fixture.message(11, from: "bob", to: "alice")]))
        #expect(model.tab("bob")?.unread == 1)
        let effects = reconnect(&model, unread: ["bob": 3], lastID: 13)
        #expect(effects.historyRequests == [
            .history(chat: .broadcast, before: nil, limit: ChatModel.catchUpPageSize),
            .history(chat: .direct("bob"), before: nil, limit: ChatModel.catchUpPageSize),
        ])
        let missed = [Fixture.message(12, from: "bob", to: "alice"), Fixture.message(13, from: "bob", to: "alice")]
        _ = model.handle(Fixture.history("bob", [Fixture.message(11, from: "bob", to: "alice")] + missed))
        #expect(model.tab("bob")?.messages.messages.map(\.id) == [11, 12, 13])
        #expect(model.tab("bob")?.unread == 3, "the server's count, not the local one plus the catch-up")
    }

    @Test func aRequestLostWithTheConnectionCanBeMadeAgain() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...5), hasMore: true)
        #expect(model.handle(.key(.home)).historyRequests.count == 1)
        #expect(model.handle(.key(.home)).historyRequests.isEmpty, "once until answered")
        _ = reconnect(&model, lastID: 5)
        #expect(model.handle(.key(.home)).historyRequests == [.history(chat: .broadcast, before: 1, limit: ChatModel.pageSize)])
    }

    @Test func sendingWhileDisconnectedKeepsTheText() {
        var model = Fixture.online()
        _ = model.handle(.disconnected(reason: "lost"))
        _ = model.type("still here?")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.input.text == "still here?")
        #expect(model.status == .error("not connected: the message stays in the input line"))
        while model.handle(.tick).isEmpty {}
        _ = model.feed(.connected, Fixture.welcome())
        #expect(model.handle(.key(.enter)).frames == [.broadcast(message: "still here?", clientID: "t-1")])
        #expect(model.status == nil, "the error is gone once the message went")
    }
}

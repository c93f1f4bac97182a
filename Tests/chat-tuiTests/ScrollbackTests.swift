import Shared
import Testing

@testable import chat_tui

/// The message pane's scrollback: by wrapped lines (27 rows of 79 columns here), loading older
/// history when the top of what is held is reached.
@Suite("Scrollback")
struct ScrollbackTests {
    @Test func scrollingToTheTopAsksForOlderMessagesOnce() {
        var model = Fixture.online(broadcast: Fixture.broadcast(101...200), hasMore: true)
        #expect(model.handle(.key(.pageUp)).isEmpty)
        #expect(model.activeChat.scrollOffset == 26, "a page less one line of context")
        _ = model.handle(.key(.pageUp))
        let top = model.handle(.key(.pageUp))
        #expect(model.activeChat.scrollOffset == 73, "100 rows, 27 on screen")
        #expect(top.historyRequests == [.history(chat: .broadcast, before: 101, limit: ChatModel.pageSize)])
        #expect(model.activeChat.historyRequest == .older)
        #expect(model.handle(.key(.pageUp)).isEmpty, "not again until the answer arrives")
        #expect(model.handle(.key(.home)).isEmpty)

        _ = model.handle(Fixture.history("broadcast", Fixture.broadcast(1...100), hasMore: false))
        #expect(model.activeChat.scrollOffset == 73, "older lines go above: the view does not move")
        #expect(model.activeChat.messages.count == 200)
        #expect(!model.activeChat.olderAvailable)
        #expect(model.handle(.key(.home)).isEmpty, "the beginning of the chat: nothing more to ask")
        #expect(model.activeChat.scrollOffset == 173)
        let rows = model.visibleMessageLines()
        #expect(rows.count == 27)
        #expect(rows.first?.text == "09:30 bob: message 1")
    }

    @Test func pageDownAndEnd() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...100))
        _ = model.press(.pageUp, .pageUp, .pageDown)
        #expect(model.activeChat.scrollOffset == 26)
        _ = model.press(.pageDown, .pageDown)
        #expect(model.activeChat.scrollOffset == 0)
        _ = model.press(.home)
        #expect(model.activeChat.scrollOffset == 73)
        _ = model.press(.end)
        #expect(model.activeChat.scrollOffset == 0)
        #expect(model.visibleMessageLines().last?.text == "09:30      message 100", "bob's name once for his run of messages")
    }

    @Test func newMessagesDoNotMoveAScrolledView() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...100))
        _ = model.press(.pageUp)
        let before = model.visibleMessageLines()
        _ = model.handle(.frame(.message(Fixture.message(101, "two\nlines"))))
        #expect(model.activeChat.scrollOffset == 28)
        #expect(model.visibleMessageLines() == before)
    }

    @Test func homeAndEndEditTheLineWhenThereIsText() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...100), hasMore: true)
        _ = model.type("abc")
        #expect(model.handle(.key(.home)).isEmpty)
        #expect(model.input.cursor == 0)
        #expect(model.activeChat.scrollOffset == 0)
        _ = model.handle(.key(.end))
        #expect(model.input.cursor == 3)
        _ = model.handle(.key(.pageUp))
        #expect(model.activeChat.scrollOffset == 26, "PgUp scrolls whatever the line holds")
    }

    @Test func aShortChatAsksAtTheFirstPageUp() {
        var model = Fixture.online(broadcast: Fixture.broadcast(41...50), hasMore: true)
        #expect(model.handle(.key(.pageUp)).historyRequests == [.history(chat: .broadcast, before: 41, limit: ChatModel.pageSize)])
        #expect(model.activeChat.scrollOffset == 0)
    }

    @Test func aFollowedTabKeepsOnlyTheNewestMessages() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...10))
        model.messageLimit = 50
        for id: Int64 in 11...80 { _ = model.handle(.frame(.message(Fixture.message(id)))) }
        #expect(model.activeChat.messages.messages.map(\.id) == Array(31...80))
        #expect(model.activeChat.olderAvailable, "what was dropped can be fetched again")

        _ = model.handle(.key(.home))
        _ = model.handle(Fixture.history("broadcast", Fixture.broadcast(1...30), hasMore: false))
        #expect(model.activeChat.messages.count == 80, "nothing is dropped while the user reads old messages")
        _ = model.handle(.key(.end))
        #expect(model.activeChat.messages.messages.map(\.id) == Array(31...80))
    }

    @Test func resizeKeepsTheOffsetInRange() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...40))
        _ = model.handle(.key(.home))
        #expect(model.activeChat.scrollOffset == 13)
        _ = model.handle(.resize(columns: 100, rows: 40))
        #expect(model.activeChat.scrollOffset == 3)
        #expect(model.layout.messagePaneHeight == 37)
    }
}

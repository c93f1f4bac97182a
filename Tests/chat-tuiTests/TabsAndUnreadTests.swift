import Shared
import Testing

@testable import chat_tui

/// Tabs, unread counts, highlights and `read` frames.
@Suite("Tabs and unread counts")
struct TabsAndUnreadTests {
    @Test func welcomeUnreadOpensDirectTabsAndLoadsThem() {
        var model = ChatModel(server: "http://chat.test", clientIDPrefix: "t-", jitter: { 1 })
        _ = model.handle(.connected)
        let effects = model.handle(Fixture.welcome(unread: ["broadcast": 0, "carol": 2, "Bob": 1], lastID: 50))
        #expect(model.tabTitles == ["Broadcast", "bob", "carol"], "the server's spelling of the name")
        #expect(model.tab("carol")?.unread == 2)
        #expect(model.tab("carol")?.highlighted == true)
        #expect(model.tab("Broadcast")?.unread == 0)
        #expect(effects.contains(.fetchFiles))
        #expect(effects.historyRequests == [
            .history(chat: .broadcast, before: nil, limit: ChatModel.pageSize),
            .history(chat: .direct("bob"), before: nil, limit: ChatModel.pageSize),
            .history(chat: .direct("carol"), before: nil, limit: ChatModel.pageSize),
        ])

        let carol = [Fixture.message(40, from: "carol", to: "alice"), Fixture.message(45, from: "alice", to: "carol"),
                     Fixture.message(49, from: "carol", to: "alice")]
        #expect(model.handle(Fixture.history("carol", carol)).reads.isEmpty, "loaded but not looked at")
        #expect(model.tab("carol")?.unread == 2)

        let switched = model.handle(.key(.alt("3")))
        #expect(model.activeChat.title == "carol")
        #expect(switched.reads == [.read(chat: .direct("carol"), upTo: 49)])
        #expect(model.tab("carol")?.unread == 0)
        #expect(model.tab("carol")?.highlighted == false)
        #expect(model.handle(.key(.alt("1"))).reads.isEmpty)
        #expect(model.handle(.key(.alt("3"))).reads.isEmpty, "read once, not on every visit")
    }

    @Test func readWaitsForTheMessagesToArrive() {
        var model = ChatModel(server: "http://chat.test", clientIDPrefix: "t-", jitter: { 1 })
        _ = model.handle(.connected)
        #expect(model.handle(Fixture.welcome(unread: ["broadcast": 3], lastID: 30)).reads.isEmpty)
        #expect(model.activeChat.unread == 3)
        let effects = model.handle(Fixture.history("broadcast", Fixture.broadcast(20...30)))
        #expect(effects.reads == [.read(chat: .broadcast, upTo: 30)])
        #expect(model.activeChat.unread == 0)
    }

    @Test func liveMessagesInOtherTabsCount() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...3))
        _ = model.handle(.key(.paste("/query bob")))
        _ = model.handle(.key(.enter))
        #expect(model.activeChat.title == "bob")
        _ = model.handle(Fixture.history("bob", []))

        let broadcast = model.handle(.frame(.message(Fixture.message(4, from: "carol"))))
        #expect(!broadcast.contains(.bell), "only direct messages ring")
        #expect(model.tab("Broadcast")?.unread == 1)
        #expect(model.tab("Broadcast")?.highlighted == false)

        let direct = model.handle(.frame(.message(Fixture.message(5, from: "bob", to: "alice"))))
        #expect(direct.reads == [.read(chat: .direct("bob"), upTo: 5)], "seen as it arrives")
        #expect(!direct.contains(.bell))
        #expect(model.activeChat.unread == 0)

        let back = model.handle(.key(.ctrl("p")))
        #expect(model.activeChat.title == "Broadcast")
        #expect(back.reads == [.read(chat: .broadcast, upTo: 4)])
        #expect(model.activeChat.unread == 0)
    }

    @Test func directMessageInAnInactiveTabHighlightsAndRings() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...3))
        let first = model.handle(.frame(.message(Fixture.message(10, from: "dave", to: "alice"))))
        #expect(first.contains(.bell))
        #expect(first.historyRequests == [.history(chat: .direct("dave"), before: nil, limit: ChatModel.pageSize)],
                "a new tab loads the conversation before this message")
        #expect(model.tabTitles == ["Broadcast", "dave"])
        #expect(model.activeChat.title == "Broadcast", "a new tab does not steal the focus")
        #expect(model.tab("dave")?.highlighted == true)
        let second = model.handle(.frame(.message(Fixture.message(11, from: "dave", to: "alice"))))
        #expect(second == [.bell])
        #expect(model.tab("dave")?.unread == 2)

        let mine = model.handle(.frame(.message(Fixture.message(12, from: "alice", to: "dave"))))
        #expect(mine.isEmpty, "my own message from another device is not unread")
        #expect(model.tab("dave")?.unread == 2)
        #expect(model.tab("dave")?.messages.count == 3)
    }

    @Test func readInAnotherSessionLowersTheCount() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...3))
        for id: Int64 in 10...12 {
            _ = model.handle(.frame(.message(Fixture.message(id, from: "dave", to: "alice"))))
        }
        _ = model.handle(.frame(.read(chat: "dave", upTo: 11)))
        #expect(model.tab("dave")?.unread == 1)
        #expect(model.tab("dave")?.highlighted == true)
        _ = model.handle(.frame(.read(chat: "Dave", upTo: 12)))
        #expect(model.tab("dave")?.unread == 0)
        #expect(model.tab("dave")?.highlighted == false)
        _ = model.handle(.frame(.read(chat: "dave", upTo: 5)))
        #expect(model.tab("dave")?.readUpTo == 12, "a lower marker is ignored, like the server does")
    }

    @Test func aChatIsReadOnlyWhenItsNewestMessagesAreOnScreen() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...100), hasMore: true)
        _ = model.handle(.key(.pageUp))
        let whileScrolled = model.handle(.frame(.message(Fixture.message(101))))
        #expect(whileScrolled.reads.isEmpty)
        #expect(model.activeChat.unread == 1)
        let end = model.handle(.key(.end))
        #expect(end.reads == [.read(chat: .broadcast, upTo: 101)])

        _ = model.handle(.key(.function(3)))
        #expect(model.handle(.frame(.message(Fixture.message(102)))).reads.isEmpty, "the file view hides the chat")
        #expect(model.activeChat.unread == 1)
        #expect(model.handle(.key(.function(3))).reads == [.read(chat: .broadcast, upTo: 102)])

        _ = model.handle(.key(.function(1)))
        #expect(model.handle(.frame(.message(Fixture.message(103)))).reads.isEmpty, "the help hides the chat")
        #expect(model.handle(.key(.escape)).reads == [.read(chat: .broadcast, upTo: 103)])
    }

    @Test func switchingTabs() {
        var model = Fixture.online()
        for name in ["bob", "carol", "dave"] {
            _ = model.handle(.key(.paste("/query \(name)")))
            _ = model.handle(.key(.enter))
        }
        #expect(model.tabTitles == ["Broadcast", "bob", "carol", "dave"])
        #expect(model.activeTab == 3, "/query shows the chat")
        _ = model.handle(.key(.alt("1")))
        #expect(model.activeTab == 0)
        _ = model.handle(.key(.alt("3")))
        #expect(model.activeTab == 2)
        _ = model.handle(.key(.alt("9")))
        #expect(model.activeTab == 2, "no ninth tab")
        _ = model.press(.ctrl("n"), .ctrl("n"))
        #expect(model.activeTab == 0, "Ctrl-N wraps around")
        _ = model.handle(.key(.ctrl("p")))
        #expect(model.activeTab == 3, "Ctrl-P wraps around")
        _ = model.handle(.key(.paste("/query BOB")))
        _ = model.handle(.key(.enter))
        #expect(model.activeTab == 1, "an open chat is not opened twice")
    }

    @Test func altAGoesToHighlightsFirstThenUnread() {
        var model = Fixture.online()
        for name in ["bob", "carol"] {
            _ = model.handle(.key(.paste("/query \(name)")))
            _ = model.handle(.key(.enter))
            _ = model.handle(Fixture.history(name, []))
        }
        _ = model.handle(.frame(.message(Fixture.message(7, from: "dave"))))  // broadcast: unread only
        _ = model.handle(.frame(.message(Fixture.message(8, from: "bob", to: "alice"))))  // highlighted
        #expect(model.activeChat.title == "carol")
        _ = model.handle(.key(.alt("a")))
        #expect(model.activeChat.title == "bob", "past the plain unread Broadcast to the highlighted chat")
        _ = model.handle(.key(.alt("a")))
        #expect(model.activeChat.title == "Broadcast")
        _ = model.handle(.key(.alt("a")))
        #expect(model.activeChat.title == "Broadcast")
        #expect(model.status == .info("no unread messages in other tabs"))
    }

    @Test func closingTabs() {
        var model = Fixture.online()
        for name in ["bob", "carol"] {
            _ = model.handle(.key(.paste("/query \(name)")))
            _ = model.handle(.key(.enter))
        }
        _ = model.handle(.key(.alt("2")))
        _ = model.handle(.key(.paste("/close")))
        _ = model.handle(.key(.enter))
        #expect(model.tabTitles == ["Broadcast", "carol"])
        #expect(model.activeChat.title == "Broadcast")
        _ = model.handle(.key(.paste("/close")))
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.tabTitles == ["Broadcast", "carol"])
        #expect(model.status?.kind == .error)
        #expect(model.input.text == "", "a refused command leaves the line, as in irssi")
        _ = model.handle(.key(.up))
        #expect(model.input.text == "/close", "and Up brings it back")
        _ = model.handle(.key(.ctrl("u")))
        let reopened = model.handle(.frame(.message(Fixture.message(9, from: "bob", to: "alice"))))
        #expect(model.tabTitles == ["Broadcast", "carol", "bob"], "a message reopens a closed chat at the end")
        #expect(reopened.contains(.bell))
    }

    @Test func usersPaneOrderSelectionAndEnter() {
        var model = Fixture.online()
        #expect(model.users.names == ["alice", "bob", "carol", "dave"])
        _ = model.handle(.frame(.info(.init(event: .leave, user: "bob"))))
        _ = model.handle(.frame(.info(.init(event: .join, user: "Erin"))))
        #expect(model.users.names == ["alice", "carol", "Erin", "bob", "dave"], "online first, then by name")

        _ = model.handle(.key(.function(2)))
        #expect(model.focus == .users)
        #expect(model.users.selectedName == "alice")
        _ = model.handle(.key(.enter))
        #expect(model.status == .error("that is you: pick someone else to talk to"))
        _ = model.press(.down, .down, .down)
        #expect(model.users.selectedName == "bob")
        _ = model.handle(.frame(.info(.init(event: .join, user: "bob"))))
        #expect(model.users.selectedName == "bob", "the selection follows the person, not the row")
        #expect(model.users.selectedIndex == 1)
        let effects = model.handle(.key(.enter))
        #expect(model.activeChat.title == "bob")
        #expect(model.focus == .input)
        #expect(effects.historyRequests.count == 1)

        _ = model.handle(.key(.function(2)))
        _ = model.handle(.key(.character("h")))
        #expect(model.focus == .input, "typing in the users pane goes to the input line")
        #expect(model.input.text == "h")
    }

    @Test func usersCommandRefreshesAndSelectsThePane() {
        var model = Fixture.online()
        _ = model.handle(.key(.paste("/users")))
        #expect(model.handle(.key(.enter)) == [.send(.users)])
        #expect(model.focus == .users)
        #expect(model.status == .info("4 users, 3 online"))
        _ = model.handle(.frame(.users([UserPresence(name: "zed", online: true)])))
        #expect(model.users.names == ["zed"])
    }

    @Test func noReadWhileTheNewestPageIsOnItsWay() {
        var model = Fixture.online()
        _ = model.handle(.key(.paste("/query bob")))
        _ = model.handle(.key(.enter))
        let early = model.handle(.frame(.message(Fixture.message(5, from: "bob", to: "alice"))))
        #expect(early.reads.isEmpty)
        #expect(model.activeChat.unread == 0, "on screen, so not unread")
        let loaded = model.handle(Fixture.history("bob", [Fixture.message(2, from: "bob", to: "alice")]))
        #expect(loaded.reads == [.read(chat: .direct("bob"), upTo: 5)])
    }

    @Test func aRefusedHistoryDoesNotBlockTheTab() {
        var model = Fixture.online()
        _ = model.handle(.key(.paste("/query bob")))
        _ = model.handle(.key(.enter))
        _ = model.handle(.frame(.error(code: .unknownUser, message: "no such user", clientID: nil)))
        #expect(model.activeChat.historyRequest == nil)
        #expect(model.handle(.frame(.message(Fixture.message(5, from: "bob", to: "alice")))).reads.count == 1)
    }
}

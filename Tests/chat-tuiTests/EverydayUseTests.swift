import Foundation
import Shared
import Testing

@testable import chat_tui

/// Issue 18, the terminal client as a weechat or irssi user tries it: reading marks what is in
/// view read whoever wrote it, the first unread message is shown and marked, nothing on screen is
/// cut, commands behave as in irssi, and the small habits (`/me`, `/clear`, `/url`, join lines,
/// `/nicklist`, day lines, grouped senders) are there.
@Suite("Everyday use")
struct EverydayUseTests {
    // MARK: reading

    @Test func aNewestPageOfOnlyOwnMessagesIsStillMarkedRead() {
        var model = ChatModel(server: "http://chat.test", clientIDPrefix: "t-", jitter: { 1 }, now: { Fixture.now })
        model.clock = .twentyFourHour()
        _ = model.handle(.resize(columns: 100, rows: 30))
        _ = model.handle(.connected)
        _ = model.handle(Fixture.welcome(unread: ["broadcast": 3], lastID: 200))
        #expect(model.activeChat.unread == 3)
        // bob's three messages are older than the page: a script posted 100 messages as alice since.
        let effects = model.handle(Fixture.history("broadcast", Fixture.broadcast(101...200, from: "alice"), hasMore: true))
        #expect(effects.reads == [.read(chat: .broadcast, upTo: 200)], "the marker moves past what is in view")
        #expect(model.activeChat.unread == 0)
        #expect(model.handle(.key(.pageUp)).reads.isEmpty, "nothing newer than the marker: no second read")
    }

    @Test func openingAChatWithUnreadShowsTheDividerAndStartsThere() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...3))
        _ = model.feed(.key(.paste("/query bob")), .key(.enter))
        _ = model.handle(Fixture.history("bob", []))
        _ = model.handle(.key(.alt("1")))
        // Back in Broadcast; carol writes 40 messages meanwhile, seen from bob's tab.
        _ = model.handle(.key(.alt("2")))
        for id in Int64(10)..<50 { _ = model.handle(.frame(.message(Fixture.message(id, from: "carol", "line \(id)")))) }
        #expect(model.tab("Broadcast")?.unread == 40)

        let effects = model.handle(.key(.alt("1")))
        #expect(model.activeChat.newMessagesFrom == 10)
        let rows = model.visibleMessageLines().map(\.text)
        #expect(rows.count == model.layout.messagePaneHeight)
        #expect(rows[1].contains("new messages"), "the divider near the top, a line of context above: \(rows)")
        #expect(rows[2].hasSuffix("line 10"))
        #expect(model.activeChat.scrollOffset > 0, "not at the bottom: the first unread one would be out of sight")
        let newestInView = model.visibleMessageLines().last!.messageID!
        #expect(effects.reads == [.read(chat: .broadcast, upTo: newestInView)], "read as far as seen")
        #expect(model.activeChat.unread == 49 - Int(newestInView))
        #expect(model.statusText.contains("-MORE("), "the status line says there is more below")

        let end = model.handle(.key(.end))
        #expect(end.reads == [.read(chat: .broadcast, upTo: 49)])
        #expect(model.activeChat.unread == 0)
        _ = model.handle(.key(.alt("2")))
        _ = model.handle(.key(.alt("1")))
        #expect(model.activeChat.newMessagesFrom == nil, "the divider goes once the chat is read and left")
        #expect(!model.visibleMessageLines().contains { $0.text.contains("new messages") })
    }

    @Test func scrolledUpTheLastRowIsStillAMessage() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...100))
        _ = model.handle(.key(.pageUp))
        let rows = model.visibleMessageLines()
        #expect(rows.count == model.layout.messagePaneHeight)
        #expect(rows.allSatisfy { $0.kind == .text }, "no marker drawn over a message row")
        #expect(model.statusText.contains("-MORE(\(model.activeChat.scrollOffset))-"))
    }

    // MARK: nothing cut

    @Test func aLongStatusWrapsAtEightyColumns() {
        var model = Fixture.online()
        _ = model.handle(.resize(columns: 80, rows: 24))
        let height = model.layout.messagePaneHeight
        _ = model.handle(.key(.function(2)))
        _ = model.handle(.key(.enter))  // alice is selected first: herself
        let long = "that is you: pick someone else to talk to, then press Enter to open the direct chat with them"
        _ = model.handle(.httpError(long))
        let rows = model.statusLines
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { TerminalWidth.columns(of: $0) <= 80 })
        #expect(rows.joined(separator: " ").split(separator: " ").joined(separator: " ").contains(long))
        #expect(model.layout.messagePaneHeight == height - 1, "the pane gives the status a row")
        _ = model.press(.escape, .escape)  // out of the users pane, then the status cleared
        #expect(model.statusLines.count == 1)
        #expect(model.layout.messagePaneHeight == height)
    }

    @Test(arguments: [(80, 24), (120, 35)])
    func helpFitsOrScrolls(columns: Int, rows: Int) {
        var model = Fixture.online()
        _ = model.handle(.resize(columns: columns, rows: rows))
        _ = model.handle(.key(.function(1)))
        let lines = model.helpLines
        #expect(lines.allSatisfy { TerminalWidth.columns(of: $0) <= columns - 2 })
        func words(_ text: [String]) -> [Substring] { text.joined(separator: " ").split(whereSeparator: \.isWhitespace) }
        #expect(words(lines) == words(HelpText.lines), "nothing lost")
        #expect(lines.contains { $0.contains("Ctrl-Y paste cut") })
        if lines.count > model.layout.messagePaneHeight {
            _ = model.handle(.key(.pageDown))
            _ = model.handle(.key(.pageDown))
            _ = model.handle(.key(.pageDown))
            #expect(model.showingHelp, "scrolling keys keep the help open")
            #expect(model.helpOffset == model.helpScrollLimit)
            #expect(model.helpOffset + model.layout.messagePaneHeight - 1 == lines.count, "the last line reachable")
        }
        #expect(model.handle(.key(.character("x"))).isEmpty)
        #expect(!model.showingHelp && model.input.isEmpty, "any other key closes and goes nowhere")
    }

    // MARK: commands

    @Test func anErrorGoesOnceALaterCommandSucceeds() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...3))
        _ = model.feed(.key(.paste("/frobnicate")), .key(.enter))
        #expect(model.status?.kind == .error)
        _ = model.feed(.key(.paste("/joins off")), .key(.enter))
        #expect(model.status?.kind != .error)
        _ = model.feed(.key(.paste("/url 7")), .key(.enter))
        #expect(model.status?.kind == .error)
        _ = model.feed(.key(.paste("/query bob")), .key(.enter))
        #expect(model.status == nil, "the old error does not stay after /query worked")
    }

    @Test func msgFromAnotherTabSaysItWasSent() {
        var model = Fixture.online()
        let effects = model.feed(.key(.paste("/msg bob see you at 3")), .key(.enter))
        #expect(effects.frames == [.direct(to: "bob", message: "see you at 3", clientID: "t-1")])
        #expect(model.status == .info("sending to bob…"))
        _ = model.handle(.frame(.message(Fixture.message(7, from: "alice", to: "bob", "see you at 3", clientID: "t-1"))))
        #expect(model.activeChat.title == "Broadcast")
        #expect(model.status == .info("sent to bob (tab 2, Alt-2)"))
    }

    @Test func meSendsAnActionAndActionsReadWeechatStyle() {
        var model = Fixture.online()
        let effects = model.feed(.key(.paste("/me waves")), .key(.enter))
        #expect(effects.frames == [.broadcast(message: "* alice waves", clientID: "t-1")])
        let action = Fixture.message(5, from: "alice", "* alice waves")
        let row = MessageLayout.layout(.message(action, continued: false), width: 60, clock: .twentyFourHour())
        #expect(row.map(\.text) == ["09:30  * alice waves"])
        #expect(row[0].sender == "alice" && row[0].senderColumns == 9..<14)
        let notAnAction = Fixture.message(6, from: "bob", "* alice waves")
        #expect(MessageLayout.layout(.message(notAnAction, continued: false), width: 60, clock: .twentyFourHour())[0].text
                == "09:30 bob: * alice waves", "only the sender's own name makes an action")
    }

    @Test func clearEmptiesTheTabOnScreenOnly() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...5))
        let effects = model.feed(.key(.paste("/clear")), .key(.enter))
        #expect(effects.isEmpty, "nothing asked of the server")
        #expect(model.visibleMessageLines().isEmpty)
        #expect(model.activeChat.messages.count == 5)
        _ = model.handle(.frame(.message(Fixture.message(6, from: "carol", "after the clear"))))
        #expect(model.visibleMessageLines().map(\.text) == ["09:30 carol: after the clear"])
    }

    @Test func urlListsAndShowsLinksWhole() {
        var model = Fixture.online(broadcast: [
            Fixture.message(1, "docs at https://example.org/a/very/long/path?with=query&and=more, see there"),
            Fixture.message(2, from: "carol", "mirror (http://mirror.example.net/x) and https://example.org/a/very/long/path?with=query&and=more."),
        ])
        _ = model.feed(.key(.paste("/url")), .key(.enter))
        #expect(model.status == .info("links, newest first (/url N shows one whole): "
                                      + "1 https://example.org/a/very/long/path?with=query&and=more  2 http://mirror.example.net/x"))
        _ = model.feed(.key(.paste("/open 2")), .key(.enter))
        #expect(model.status == .info("http://mirror.example.net/x"))
        _ = model.feed(.key(.paste("/url 3")), .key(.enter))
        #expect(model.status == .error("Broadcast has 2 links: /url 1 to /url 2"))
    }

    @Test func aURLIsNotCutWhenItFitsOnARow() {
        let url = "https://example.org/0123456789/abcdefghij/klmnopqrst"
        let rows = MessageLayout.lines(for: Fixture.message(1, "see the report at \(url) please"), width: 70, timeZone: .gmt)
        #expect(rows.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(url) }, "\(rows)")
    }

    @Test func joinAndLeaveLinesInBroadcastAndTheirSetting() {
        var model = Fixture.online(broadcast: Fixture.broadcast(1...2))
        _ = model.handle(.frame(.info(.init(event: .join, user: "dave"))))
        _ = model.handle(.frame(.message(Fixture.message(3, from: "dave", "hi all"))))
        _ = model.handle(.frame(.info(.init(event: .leave, user: "dave"))))
        #expect(model.visibleMessageLines().suffix(3).map(\.text) == ["09:31 --> dave joined", "09:30 dave: hi all", "09:31 <-- dave left"])
        _ = model.feed(.key(.paste("/joins off")), .key(.enter))
        #expect(!model.visibleMessageLines().contains { $0.text.contains("dave joined") })
        _ = model.feed(.key(.paste("/joins")), .key(.enter))
        #expect(model.showJoinLines)
    }

    @Test func nicklistAndAltNHideAndShowTheUsersPane() {
        var model = Fixture.online()
        let wide = model.layout.messagePaneWidth
        _ = model.feed(.key(.paste("/nicklist")), .key(.enter))
        #expect(model.layout.usersPaneWidth == 0 && model.layout.messagePaneWidth == 100)
        _ = model.handle(.key(.alt("n")))
        #expect(model.layout.messagePaneWidth == wide)
        _ = model.handle(.resize(columns: 120, rows: 35))
        _ = model.handle(.key(.alt("n")))
        #expect(model.layout.usersPaneWidth == 0, "a resize keeps the choice")
    }

    // MARK: the pane

    @Test func dayChangeLinesWithTheYearOnlyForOtherYears() {
        let messages = [
            ChatMessage(id: 1, from: "bob", to: nil, message: "last year", ts: "2025-12-31T22:00:00.000Z", clientID: nil),
            ChatMessage(id: 2, from: "bob", to: nil, message: "yesterday", ts: "2026-12-06T09:00:00.000Z", clientID: nil),
            ChatMessage(id: 3, from: "bob", to: nil, message: "today", ts: "2026-12-07T09:00:00.000Z", clientID: nil),
        ]
        let clock = MessageClock.twentyFourHour()
        let today = clock.day("2026-12-07T12:00:00.000Z")!
        let items = PaneItem.items(messages: messages, clock: clock, today: today)
        #expect(items.compactMap { if case .dayChange(let day) = $0 { day } else { nil } }
                == ["Sunday 6 December", "Monday 7 December"])
        let older = PaneItem.items(messages: [messages[0], ChatMessage(id: 9, from: "bob", to: nil, message: "x", ts: "2026-01-01T09:00:00.000Z", clientID: nil)],
                                   clock: clock, today: today)
        #expect(older.contains(.dayChange("Thursday 1 January 2026")) == false, "2026 is this year")
        #expect(PaneItem.items(messages: [messages[1], messages[0]].sorted { $0.id < $1.id }, clock: clock,
                               today: clock.day("2027-03-01T12:00:00.000Z")!).contains(.dayChange("Sunday, 6 December 2026")), "en_GB writes the year with a comma")
    }

    @Test func aRunOfOneSendersMessagesShowsTheNameOnce() {
        func message(_ id: Int64, _ from: String, _ time: String) -> ChatMessage {
            ChatMessage(id: id, from: from, to: nil, message: "m\(id)", ts: "2026-11-21T\(time):00.000Z", clientID: nil)
        }
        let clock = MessageClock.twentyFourHour()
        let items = PaneItem.items(messages: [message(1, "bob", "09:30"), message(2, "bob", "09:33"), message(3, "bob", "09:40"),
                                              message(4, "carol", "09:41"), message(5, "Bob", "09:41")],
                                   clock: clock, today: 0)
        let rows = items.flatMap { MessageLayout.layout($0, width: 60, clock: clock) }.map(\.text)
        #expect(rows == ["09:30 bob: m1", "09:33      m2", "09:40 bob: m3", "09:41 carol: m4", "09:41 Bob: m5"])
    }

    @Test func timesFollowTheLocale() {
        let us = MessageClock.current(environment: ["LANG": "en_US.UTF-8"])
        #expect(!us.twentyFourHour)
        var gmtUS = us
        gmtUS.timeZone = .gmt
        #expect(gmtUS.time("2026-11-21T21:05:00.000Z") == " 9:05 PM")
        #expect(gmtUS.time("2026-11-21T00:30:00.000Z") == "12:30 AM")
        #expect(MessageClock.current(environment: ["LANG": "de_DE.UTF-8"]).twentyFourHour)
        #expect(MessageClock.current(environment: ["LC_TIME": "en_GB.UTF-8", "LANG": "en_US.UTF-8"]).twentyFourHour)
        #expect(MessageClock.current(environment: [:]).twentyFourHour, "no locale: 24 h")
        let row = MessageLayout.layout(.message(Fixture.message(1, "hi"), continued: false), width: 60, clock: gmtUS)[0]
        #expect(row.text == " 9:30 AM bob: hi" && row.senderColumns == 9..<12)
    }

    // MARK: downloads

    @Test func aDownloadAsksBeforeReplacingALocalFile() {
        var model = Fixture.online()
        _ = model.handle(.fileList([Fixture.file("report.pdf", owner: "bob")]))
        let first = model.feed(.key(.paste("/download report.pdf /tmp/report.pdf")), .key(.enter))
        #expect(first == [.download(id: 1, name: "report.pdf", destination: "/tmp/report.pdf", replace: false)])
        _ = model.handle(.downloadTargetExists(id: 1, path: "/tmp/report.pdf"))
        #expect(model.prompt?.kind == .confirmOverwrite(name: "report.pdf", path: "/tmp/report.pdf"))
        #expect(model.inputLabel == "/tmp/report.pdf exists. Replace it? (y/n) ")
        #expect(model.transfers.isEmpty)
        #expect(model.handle(.key(.character("n"))).isEmpty)
        #expect(model.prompt == nil && model.status == .info("kept /tmp/report.pdf; not downloaded"))

        _ = model.feed(.key(.paste("/download report.pdf /tmp/report.pdf")), .key(.enter))
        _ = model.handle(.downloadTargetExists(id: 2, path: "/tmp/report.pdf"))
        #expect(model.handle(.key(.character("y"))) == [.download(id: 3, name: "report.pdf", destination: "/tmp/report.pdf", replace: true)])
    }

    // MARK: scripts and login

    @Test func sendReadsStandardInputWithoutTextOrWithADash() throws {
        #expect(try SendCommand.message(argument: "hello", readInput: { Data("ignored".utf8) }) == "hello")
        #expect(try SendCommand.message(argument: nil, readInput: { Data("build failed\nsee log\n".utf8) }) == "build failed\nsee log")
        #expect(try SendCommand.message(argument: "-", readInput: { Data("from a pipe\n".utf8) }) == "from a pipe")
    }

    @Test func loginFailuresReadPlainly() {
        #expect(ChatAPI.reason(NSError(domain: "x", code: 1, userInfo: [NSLocalizedDescriptionKey: "connection reset (error set): Connection refused) (errno: 111)"]))
                == "connection refused")
        let noAccount = ChatAPIError.noAccount(user: "erin", server: "http://chat.test")
        #expect(noAccount.exitStatus == 3)
        #expect(noAccount.description == "no account 'erin' at http://chat.test: check --user, or add --register to create it")
    }
}

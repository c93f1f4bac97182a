import Shared
import Testing

@testable import chat_tui

/// Enter on the input line: messages, validation, paste, commands, refusals, typing notices.
@Suite("Sending from the input line")
struct SendingTests {
    @Test func plainTextGoesToTheActiveChat() {
        var model = Fixture.online()
        _ = model.type("  hello 世界 ")
        #expect(model.handle(.key(.enter)) == [.send(.broadcast(message: "hello 世界", clientID: "t-1"))])
        #expect(model.input.isEmpty)
        #expect(model.input.history.entries == ["  hello 世界 "])

        _ = model.handle(.key(.paste("/query bob")))
        _ = model.handle(.key(.enter))
        _ = model.type("psst")
        #expect(model.handle(.key(.enter)).frames == [.direct(to: "bob", message: "psst", clientID: "t-2")])
    }

    @Test func aMultiLinePasteIsOneMessage() {
        var model = Fixture.online()
        #expect(model.handle(.key(.paste("line one\nline two\r\nline three\n"))).isEmpty, "a paste never sends")
        #expect(model.input.text == "line one\nline two\nline three\n")
        #expect(model.handle(.key(.enter)).frames == [.broadcast(message: "line one\nline two\nline three", clientID: "t-1")])
    }

    @Test func invalidTextStaysWithAReason() {
        var model = Fixture.online()
        _ = model.handle(.key(.paste(String(repeating: "x", count: 4001))))
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.status == .error("message is 4001 characters, the limit is 4000"))
        #expect(model.input.text.count == 4001)

        var blank = Fixture.online()
        _ = blank.type("   ")
        #expect(blank.handle(.key(.enter)).isEmpty)
        #expect(blank.status == .error("message is empty"))
        #expect(blank.input.text == "   ")

        var empty = Fixture.online()
        #expect(empty.handle(.key(.enter)).isEmpty)
        #expect(empty.status == nil, "Enter on an empty line is not an error")
    }

    @Test func theServersLimitApplies() {
        var model = ChatModel(server: "s", clientIDPrefix: "t-", jitter: { 1 })
        _ = model.handle(.connected)
        _ = model.handle(.frame(.welcome(.init(username: "alice", users: Fixture.users, unread: [:], lastID: 0,
                                               limits: ServerLimits(messageChars: 5, fileBytes: 100), server: "x"))))
        _ = model.type("123456")
        #expect(model.handle(.key(.enter)).isEmpty)
        _ = model.handle(.key(.backspace))
        #expect(model.handle(.key(.enter)).frames.count == 1)
    }

    @Test func aRefusedMessageComesBack() {
        var model = Fixture.online()
        _ = model.type("hello")
        _ = model.handle(.key(.enter))
        _ = model.handle(.frame(.error(code: .rateLimited, message: "slow down", clientID: "t-1")))
        #expect(model.input.text == "hello")
        #expect(model.status == .error("not sent: slow down (the message is back in the input line)"))

        _ = model.handle(.key(.enter))
        _ = model.handle(.frame(.message(Fixture.message(5, from: "alice", "hello", clientID: "t-2"))))
        _ = model.handle(.frame(.error(code: .internal, message: "odd", clientID: "t-2")))
        #expect(model.input.isEmpty, "a message the server echoed was delivered")
        #expect(model.status == .error("odd"))

        _ = model.type("/msg carol hi")
        _ = model.handle(.key(.enter))
        _ = model.handle(.frame(.error(code: .rateLimited, message: "slow down", clientID: "t-3")))
        #expect(model.input.text == "/msg carol hi", "the whole line, so that it goes to carol again")
    }

    @Test func doubleSlashSendsASlash() {
        var model = Fixture.online()
        _ = model.type("//shrug")
        #expect(model.handle(.key(.enter)).frames == [.broadcast(message: "/shrug", clientID: "t-1")])
    }

    @Test func commandErrorsSendNothing() {
        var model = Fixture.online()
        _ = model.type("/frobnicate")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.status == .error("unknown command /frobnicate (see /help; // sends a message starting with /)"))
        #expect(model.input.text == "", "a command is done with once entered, as in irssi: typing starts afresh")
        _ = model.handle(.key(.up))
        #expect(model.input.text == "/frobnicate", "Up brings the mistyped command back to fix")

        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/msg zed hi")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.status == .error("no user named zed"))

        _ = model.handle(.key(.ctrl("u")))
        _ = model.type("/msg Alice hi")
        #expect(model.handle(.key(.enter)).isEmpty, "not to myself")
    }

    @Test func msgSendsWithoutSwitching() {
        var model = Fixture.online()
        _ = model.type("/msg CAROL see you at 5")
        #expect(model.handle(.key(.enter)).frames == [.direct(to: "carol", message: "see you at 5", clientID: "t-1")])
        #expect(model.activeChat.title == "Broadcast")
        _ = model.handle(.frame(.message(Fixture.message(3, from: "alice", to: "carol", "see you at 5", clientID: "t-1"))))
        #expect(model.tabTitles == ["Broadcast", "carol"], "the echo opens the chat")
        #expect(model.tab("carol")?.unread == 0)
    }

    @Test func helpAndQuit() {
        var model = Fixture.online()
        _ = model.type("/help")
        _ = model.handle(.key(.enter))
        #expect(model.showingHelp)
        #expect(HelpText.lines.contains { $0.hasPrefix("/download NAME [PATH]") })
        _ = model.handle(.key(.character("x")))
        #expect(!model.showingHelp)
        #expect(model.input.isEmpty, "the key that closes the help is not typed")
        _ = model.type("/quit")
        #expect(model.handle(.key(.enter)) == [.quit])
        #expect(model.handle(.key(.ctrl("c"))) == [.quit])
    }

    @Test func typingNoticesInDirectChatsAtMostEveryFewSeconds() {
        var model = Fixture.online()
        #expect(model.type("hi").isEmpty, "nothing for the broadcast channel")
        _ = model.handle(.key(.ctrl("u")))
        _ = model.handle(.key(.paste("/query bob")))
        _ = model.handle(.key(.enter))
        #expect(model.type("h") == [.send(.typing(to: "bob"))])
        #expect(model.type("ey").isEmpty)
        #expect(model.handle(.key(.left)).isEmpty, "moving the cursor is not typing")
        for _ in 0..<ChatModel.typingNoticeInterval { _ = model.handle(.tick) }
        #expect(model.type("!") == [.send(.typing(to: "bob"))])
        _ = model.handle(.key(.ctrl("u")))
        for _ in 0..<ChatModel.typingNoticeInterval { _ = model.handle(.tick) }
        #expect(model.type("/files").isEmpty, "a command is not a message being typed")
    }

    @Test func typingIndicatorFromOthers() {
        var model = Fixture.online()
        _ = model.handle(.key(.paste("/query bob")))
        _ = model.handle(.key(.enter))
        _ = model.handle(.frame(.typing(from: "bob")))
        #expect(model.activeChat.isTyping)
        for _ in 0..<ChatModel.typingShownSeconds { _ = model.handle(.tick) }
        #expect(!model.activeChat.isTyping)
        _ = model.handle(.frame(.typing(from: "bob")))
        _ = model.handle(.frame(.message(Fixture.message(4, from: "bob", to: "alice"))))
        #expect(!model.activeChat.isTyping, "the message it announced has come")
        _ = model.handle(.frame(.typing(from: "dave")))
        #expect(model.tabTitles == ["Broadcast", "bob"], "typing alone opens no tab")
    }
}

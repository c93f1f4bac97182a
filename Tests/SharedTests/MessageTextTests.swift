import Shared
import Testing

@Suite("Message text rules")
struct MessageTextTests {
    @Test func trimsUnicodeWhiteSpaceIncludingNELAndNBSP() throws {
        #expect(try MessageText.validate("\u{85}\u{A0}\r\n\u{0B}\u{0C} hi \u{2003}", maxScalars: 10).get() == "hi")
    }

    @Test func keepsInnerNewlinesAndTabs() throws {
        #expect(try MessageText.validate("a\n\tb", maxScalars: 10).get() == "a\n\tb")
    }

    @Test(arguments: ["a\rb", "a\u{0}b", "a\u{7F}b", "a\u{80}b", "a\u{9F}b", "a\u{1B}b"])
    func refusesInnerControls(text: String) {
        #expect(throws: ProtocolError.self) { try MessageText.validate(text, maxScalars: 10).get() }
        if case .failure(let error) = MessageText.validate(text, maxScalars: 10) {
            #expect(error.code == .badRequest)
        }
    }

    @Test func countsUnicodeScalarsNotBytesOrGraphemes() {
        let flag = "🇩🇪"  // one grapheme, two scalars
        #expect((try? MessageText.validate(String(repeating: flag, count: 2), maxScalars: 4).get()) != nil)
        if case .failure(let error) = MessageText.validate(String(repeating: flag, count: 2) + "x", maxScalars: 4) {
            #expect(error.code == .tooLong)
        } else {
            Issue.record("five scalars passed a limit of four")
        }
        #expect((try? MessageText.validate(String(repeating: "é", count: 4000), maxScalars: 4000).get()) != nil)
    }

    @Test func emptyAfterTrimming() {
        if case .failure(let error) = MessageText.validate("\u{2028}\u{3000}", maxScalars: 10) {
            #expect(error.code == .empty)
        } else {
            Issue.record("white space only was accepted")
        }
    }
}

@Suite("Names and passwords")
struct NameRuleTests {
    @Test(arguments: ["a", "Alice", "bob_1", "x.y-z", "_", String(repeating: "n", count: 32)])
    func validNames(name: String) {
        #expect((try? Username.validate(name).get()) == name)
    }

    @Test(arguments: ["", ".alice", "-bob", "al ice", "ål", "a/b", String(repeating: "n", count: 33)])
    func invalidNames(name: String) {
        #expect(throws: ProtocolError.self) { try Username.validate(name).get() }
    }

    @Test func reservedNamesOnlyByOperatorForAdmin() {
        for name in ["broadcast", "Server", "SYSTEM", "admin"] {
            #expect(throws: ProtocolError.self) { try Username.checkRegistrable(name, byOperator: false).get() }
        }
        #expect((try? Username.checkRegistrable("admin", byOperator: true).get()) == "admin")
        #expect(throws: ProtocolError.self) { try Username.checkRegistrable("broadcast", byOperator: true).get() }
    }

    @Test func canonicalKeyIsCaseInsensitive() {
        #expect(Username.canonicalKey("AlIcE_9") == "alice_9")
    }

    @Test func passwordLengthInBytes() {
        #expect(throws: ProtocolError.self) { try Password.validate("1234567").get() }
        #expect((try? Password.validate("12345678").get()) != nil)
        #expect((try? Password.validate(String(repeating: "p", count: 1024)).get()) != nil)
        #expect(throws: ProtocolError.self) { try Password.validate(String(repeating: "p", count: 1025)).get() }
        #expect((try? Password.validate("ééééé").get()) != nil, "ten bytes of UTF-8 in five characters")
    }
}

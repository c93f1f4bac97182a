import Foundation
import Shared
import Testing

@testable import chat_tui

@Suite("Message layout")
struct MessageLayoutTests {
    func lines(_ text: String, from: String = "bob", width: Int) -> [String] {
        MessageLayout.lines(for: Fixture.message(1, from: from, text), width: width, timeZone: .gmt)
    }

    func spaces(_ count: Int) -> String { String(repeating: " ", count: count) }

    @Test func clockNameAndText() {
        #expect(lines("hello world", width: 40) == ["09:30 bob: hello world"])
        let layout = MessageLayout.layout(Fixture.message(1, from: "bob", "hi"), width: 40, timeZone: .gmt)
        #expect(layout[0].sender == "bob")
        #expect(layout[0].senderColumns == 6..<9)
    }

    @Test func clockInTheLocalTimeZone() {
        let plusTwo = TimeZone(secondsFromGMT: 2 * 3600)!
        #expect(MessageLayout.clock("2026-11-21T09:30:00.123Z", timeZone: plusTwo) == "11:30")
        #expect(MessageLayout.clock("2026-11-21T23:45:59.999Z", timeZone: plusTwo) == "01:45")
        #expect(MessageLayout.clock("2026-11-21T03:10:00.000Z", timeZone: TimeZone(secondsFromGMT: -5 * 3600)!) == "22:10")
        #expect(MessageLayout.clock("yesterday", timeZone: .gmt) == "--:--")
        #expect(MessageLayout.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
    }

    @Test func wrapsAtWordsWithContinuationUnderTheText() {
        #expect(lines("the quick brown fox jumps over the lazy dog", width: 40) == [
            "09:30 bob: the quick brown fox jumps",
            spaces(11) + "over the lazy dog",
        ])
    }

    @Test func narrowPaneIndentsJustPastTheClock() {
        #expect(lines("aaa bbb ccc ddd", width: 20) == [
            "09:30 bob: aaa bbb",
            spaces(6) + "ccc ddd",
        ])
    }

    @Test func cjkWithoutSpacesBreaksBetweenCharacters() {
        let text = "日本語のテキストはスペースなしで折り返す"
        let rows = lines(text, width: 20)
        #expect(rows == ["09:30 bob: 日本語の", spaces(6) + "テキストはスペ", spaces(6) + "ースなしで折り", spaces(6) + "返す"])
    }

    @Test func keepsTheMessagesOwnLines() {
        #expect(lines("line one\nline two\n\n    indented", width: 79) == [
            "09:30 bob: line one",
            spaces(11) + "line two",
            "",
            spaces(15) + "indented",
        ])
    }

    @Test(arguments: [8, 11, 17, 24, 33, 50])
    func noRowIsWiderThanThePane(_ width: Int) {
        let text = "Mixed 日本語 text with émoji 👨‍👩‍👧 and a verylongwordwithoutanyspacesatall 🇫🇷🇫🇷🇫🇷 한국어 문장"
        let rows = lines(text, from: "someone.long", width: width)
        for row in rows {
            #expect(TerminalWidth.columns(of: row) <= width, "\(width): \(row)")
        }
        let words = { (s: String) in s.filter { !$0.isWhitespace } }
        #expect(words(rows.joined()) == words("09:30 someone.long: " + text), "nothing lost or doubled")
    }

    @Test func windowCountsRowsFromTheBottom() {
        let messages = [
            Fixture.message(1, "one"),
            Fixture.message(2, "two\nlines"),
            Fixture.message(3, "three"),
        ]
        let bottom = MessageLayout.window(messages, width: 40, height: 2, offset: 0, timeZone: .gmt)
        #expect(bottom.map(\.messageID) == [2, 3])
        let up = MessageLayout.window(messages, width: 40, height: 2, offset: 2, timeZone: .gmt)
        #expect(up.map(\.text) == ["09:30 bob: one", "09:30 bob: two"])
        #expect(MessageLayout.lineCount(messages, width: 40) == 4)
        #expect(MessageLayout.window(messages, width: 40, height: 3, offset: 10, timeZone: .gmt).isEmpty)
    }

    @Test func userColoursAreStableAndIgnoreCase() {
        // FNV-1a of the lowercased name, computed independently.
        #expect(UserColor.index(for: "alice", paletteSize: 8) == 7)
        #expect(UserColor.index(for: "bob", paletteSize: 8) == 4)
        #expect(UserColor.index(for: "carol", paletteSize: 6) == 2)
        #expect(UserColor.index(for: "Alice", paletteSize: 8) == UserColor.index(for: "alice", paletteSize: 8))
        #expect(UserColor.index(for: "x", paletteSize: 0) == 0)
    }
}

import Testing

@testable import chat_tui

@Suite("Terminal width of characters")
struct TerminalWidthTests {
    @Test(arguments: [
        ("a", 1), ("é", 1), ("e\u{301}", 1), ("ｱ", 1), ("#", 1), ("☺", 1), ("❤", 1), ("—", 1),
    ] as [(String, Int)])
    func narrow(_ text: String, _ columns: Int) {
        #expect(TerminalWidth.columns(of: Character(text)) == columns, "\(text)")
    }

    @Test(arguments: [
        "中", "語", "한", "あ", "ア", "Ａ", "\u{3000}", "\u{20000}", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "⌚",
        "☺\u{FE0F}", "❤\u{FE0F}", "1\u{FE0F}\u{20E3}", "⌚\u{FE0E}",
    ])
    func wide(_ text: String) {
        #expect(TerminalWidth.columns(of: Character(text)) == 2, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test(arguments: ["\u{200D}", "\u{301}", "\u{FE0F}", "\u{200B}", "\u{1160}", "\n"])
    func zeroWidth(_ text: String) {
        #expect(TerminalWidth.columns(of: Character(text)) == 0)
    }

    @Test func strings() {
        #expect(TerminalWidth.columns(of: "日本語abc") == 9)
        #expect(TerminalWidth.columns(of: "hi 👋 café") == 10)
        #expect(TerminalWidth.columns(of: "") == 0)
    }

    @Test func wideTableIsSortedAndDisjoint() {
        for (a, b) in zip(TerminalWidth.wideRanges, TerminalWidth.wideRanges.dropFirst()) {
            #expect(a.upperBound < b.lowerBound)
        }
        #expect(!TerminalWidth.isWide(0x303F), "U+303F is half width, just past the CJK punctuation block")
        #expect(!TerminalWidth.isWide(0xFF61), "halfwidth katakana follow the fullwidth forms")
    }
}

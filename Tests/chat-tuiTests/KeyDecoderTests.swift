import Testing

@testable import chat_tui

/// Raw ncurses input to keys, without a terminal.
@Suite("Key decoder")
struct KeyDecoderTests {
    static let codes = KeyDecoder.KeyCodes(up: 259, down: 258, left: 260, right: 261, home: 262, end: 360, pageUp: 339,
                                           pageDown: 338, delete: 330, backspace: 263, enter: 343, resize: 410, btab: 353, f0: 264)

    func keys(_ inputs: [KeyDecoder.Input]) -> [KeyDecoder.Output] {
        var decoder = KeyDecoder(codes: Self.codes)
        return inputs.flatMap { decoder.feed($0) }
    }

    func typed(_ text: String) -> [KeyDecoder.Input] {
        text.unicodeScalars.map { .scalar($0) }
    }

    @Test func charactersControlKeysAndEnter() {
        #expect(keys(typed("aé漢\u{1}\u{17}\r\t\u{7F}")) == [
            .key(.character("a")), .key(.character("é")), .key(.character("漢")), .key(.ctrl("a")), .key(.ctrl("w")),
            .key(.enter), .key(.tab), .key(.backspace),
        ])
    }

    @Test func altIsEscapeThenAKeyAndALoneEscapeNeedsTheTimeout() {
        #expect(keys(typed("\u{1B}1\u{1B}n")) == [.key(.alt("1")), .key(.alt("n"))])
        #expect(keys(typed("\u{1B}")) == [], "an ESC alone is not yet a key")
        #expect(keys(typed("\u{1B}") + [.timeout]) == [.key(.escape)])
    }

    @Test func ncursesKeyCodesAndResize() {
        #expect(keys([.keyCode(259), .keyCode(339), .keyCode(264 + 3), .keyCode(410), .keyCode(999)]) == [
            .key(.up), .key(.pageUp), .key(.function(3)), .resize,
        ], "an unknown code is dropped")
    }

    @Test func escapeSequencesNcursesDidNotTranslate() {
        #expect(keys(typed("\u{1B}[A\u{1B}[5~\u{1B}[3~\u{1B}[99x")) == [.key(.up), .key(.pageUp), .key(.delete)])
    }

    @Test func bracketedPasteIsOneKeyWithItsNewlines() {
        let pasted = keys(typed("\u{1B}[200~line one\rline two\r\nthree\u{1B}[201~x"))
        #expect(pasted == [.key(.paste("line one\nline two\nthree")), .key(.character("x"))])
    }

    @Test func aPartialClosingMarkerInsideAPasteIsText() {
        #expect(keys(typed("\u{1B}[200~a\u{1B}[20b\u{1B}[201~")) == [.key(.paste("a\u{1B}[20b"))])
    }

    @Test func aHugePasteIsCutNotBuffered() {
        let big = String(repeating: "x", count: KeyDecoder.maxPasteScalars + 500)
        guard case .key(.paste(let text))? = keys(typed("\u{1B}[200~" + big + "\u{1B}[201~")).first else {
            Issue.record("no paste")
            return
        }
        #expect(text.unicodeScalars.count == KeyDecoder.maxPasteScalars)
    }
}

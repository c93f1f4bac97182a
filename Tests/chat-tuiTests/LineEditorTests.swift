import Testing

@testable import chat_tui

@Suite("Line editor")
struct LineEditorTests {
    func editor(_ text: String, cursor: Int? = nil) -> LineEditor {
        var editor = LineEditor(text)
        if let cursor {
            _ = editor.handle(.home)
            for _ in 0..<cursor { _ = editor.handle(.right) }
        }
        return editor
    }

    @Test func cursorMovesByCharacterAndCountsColumns() {
        var line = editor("a中😀👨‍👩‍👧e\u{301}")
        #expect(line.characters.count == 5)
        #expect(line.cursorColumn == 8)
        _ = line.handle(.left)
        #expect(line.cursorColumn == 7, "é is one column")
        _ = line.handle(.left)
        #expect(line.cursorColumn == 5, "the family is one character of two columns")
        _ = line.handle(.backspace)
        #expect(line.text == "a中👨‍👩‍👧e\u{301}", "backspace removes the whole emoji")
        _ = line.handle(.ctrl("a"))
        #expect(line.cursor == 0)
        _ = line.handle(.delete)
        #expect(line.text == "中👨‍👩‍👧e\u{301}")
        _ = line.handle(.end)
        #expect(line.cursor == 3)
    }

    @Test func combiningMarkTypedAloneJoinsThePreviousCharacter() {
        var line = LineEditor()
        _ = line.handle(.character("e"))
        _ = line.handle(.character("\u{301}"))
        #expect(line.characters == ["e\u{301}"])
        #expect(line.cursorColumn == 1)
    }

    @Test func killKeysAndYank() {
        var line = editor("send the 日本 files now", cursor: 18)
        _ = line.handle(.ctrl("w"))
        #expect(line.text == "send the 日本 now", "Ctrl-W removes the word before the cursor and its space")
        _ = line.handle(.ctrl("w"))
        #expect(line.text == "send the now")
        _ = line.handle(.ctrl("y"))
        #expect(line.text == "send the 日本 now", "Ctrl-Y puts back what was cut last")
        _ = line.handle(.ctrl("k"))
        #expect(line.text == "send the 日本 ")
        _ = line.handle(.left)
        _ = line.handle(.ctrl("u"))
        #expect(line.text == " ")
        #expect(line.cursor == 0)
    }

    @Test func ctrlWSkipsTrailingSpaceAndStopsAtLineStart() {
        var line = editor("one two   ")
        _ = line.handle(.ctrl("w"))
        #expect(line.text == "one ")
        _ = line.handle(.ctrl("w"))
        _ = line.handle(.ctrl("w"))
        #expect(line.text == "")
    }

    @Test func wordMotion() {
        var line = editor("alpha beta gamma")
        _ = line.handle(.alt("b"))
        #expect(line.cursor == 11)
        _ = line.handle(.alt("b"))
        #expect(line.cursor == 6)
        _ = line.handle(.alt("f"))
        #expect(line.cursor == 10)
    }

    @Test func historyKeepsTheLineBeingTyped() {
        var line = LineEditor()
        for sent in ["first", "second"] {
            line.setText(sent)
            line.commit()
        }
        line.insert("draft")
        _ = line.handle(.up)
        #expect(line.text == "second")
        _ = line.handle(.up)
        #expect(line.text == "first")
        _ = line.handle(.up)
        #expect(line.text == "first", "stays at the oldest")
        _ = line.handle(.down)
        #expect(line.text == "second")
        _ = line.handle(.down)
        #expect(line.text == "draft", "past the newest the draft comes back")
        _ = line.handle(.down)
        #expect(line.text == "draft")
    }

    @Test func historySkipsRepeatsAndIsBounded() {
        var history = InputHistory()
        history.limit = 3
        for line in ["a", "a", "b", "c", "d"] { history.record(line) }
        #expect(history.entries == ["b", "c", "d"])
    }

    @Test func pasteKeepsNewlinesAndDropsControls() {
        var line = LineEditor()
        _ = line.handle(.paste("one\r\ntwo\rthree\u{1B}[31m\tend"))
        #expect(line.text == "one\ntwo\nthree[31m\tend")
        #expect(line.view(width: 40).text == "one⏎two⏎three[31m⇥end")
    }

    @Test func windowKeepsTheCursorVisibleOnAWideLine() {
        var line = LineEditor()
        let width = 10
        for character in "日本語のテキストと😀絵文字" {
            line.insert(String(character))
            line.fit(width: width)
            let view = line.view(width: width)
            #expect(TerminalWidth.columns(of: view.text) <= width)
            #expect(view.cursorColumn < width, "the cursor cell is inside the field")
            #expect(view.cursorColumn == TerminalWidth.columns(of: view.text), "at the end, after the last character")
        }
        #expect(line.view(width: width).text == "😀絵文字", "8 columns, plus the cursor's cell; the next wide character would not fit")
        for _ in 0..<14 {
            _ = line.handle(.left)
            line.fit(width: width)
            let view = line.view(width: width)
            #expect(view.cursorColumn + 2 <= width, "a wide character under the cursor fits whole")
        }
        #expect(line.view(width: width).text.hasPrefix("日本語"))
        #expect(line.view(width: width).cursorColumn == 0)
    }

    @Test func windowDoesNotJumpWhileTheCursorStaysInside() {
        var line = LineEditor(String(repeating: "x", count: 30))
        line.fit(width: 10)
        let start = line.scrollStart
        _ = line.handle(.left)
        _ = line.handle(.left)
        line.fit(width: 10)
        #expect(line.scrollStart == start)
        #expect(line.view(width: 10).cursorColumn == 7)
    }

    @Test func deletingAtTheEndBringsTheTextBack() {
        var line = LineEditor(String(repeating: "ab", count: 10))
        line.fit(width: 10)
        #expect(line.scrollStart == 11)
        for _ in 0..<15 {
            _ = line.handle(.backspace)
            line.fit(width: 10)
        }
        #expect(line.scrollStart == 0)
        #expect(line.view(width: 10).text == "ababa")
    }
}

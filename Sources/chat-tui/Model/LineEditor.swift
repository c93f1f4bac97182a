import Shared

/// An editable line of text: the chat input and the prompts of file actions. Kept as an array of
/// `Character`s (grapheme clusters) so that the cursor never lands inside an emoji or between a
/// letter and its accent, with readline's keys, a kill buffer, input history, and a horizontal
/// window measured in terminal columns so the cursor is always on screen.
///
/// Newlines are kept as text (a multi-line paste becomes one multi-line message, as in Slack, rather
/// than being cut or sent line by line) and drawn as `⏎` so that the input stays one row; tabs are
/// kept and drawn as `⇥`. Other control characters are dropped on entry: the server would refuse
/// the message for them.
struct LineEditor: Equatable, Sendable {
    private(set) var characters: [Character] = []
    /// Index in `characters` before which new text goes; `characters.count` at the end.
    private(set) var cursor = 0
    /// The first character shown, kept between redraws so the text does not jump while the cursor
    /// moves inside the window (see ``fit(width:)``).
    private(set) var scrollStart = 0
    /// What the last Ctrl-U, Ctrl-K or Ctrl-W removed, for Ctrl-Y.
    private(set) var killBuffer: [Character] = []
    private(set) var history = InputHistory()

    init(_ text: String = "") {
        setText(text)
    }

    var text: String { String(characters) }
    var isEmpty: Bool { characters.isEmpty }

    /// What the window shows of the line, and where the cursor sits in it (0-based column).
    struct View: Equatable, Sendable {
        var text: String
        var cursorColumn: Int
    }

    // MARK: editing

    /// Replaces the whole line, cursor at the end.
    mutating func setText(_ text: String) {
        characters = Self.sanitized(text)
        cursor = characters.count
        scrollStart = min(scrollStart, cursor)
    }

    /// Types or pastes `text` at the cursor. A combining mark or a joiner typed on its own joins
    /// the character before it, as it will in the sent text.
    mutating func insert(_ text: String) {
        let new = Self.sanitized(text)
        guard !new.isEmpty else { return }
        if cursor > 0 {
            let merged = Array(String(characters[cursor - 1]) + String(new))
            characters.replaceSubrange(cursor - 1..<cursor, with: merged)
            cursor += merged.count - 1
        } else {
            characters.insert(contentsOf: new, at: 0)
            cursor = new.count
        }
    }

    /// Replaces the text from `start` up to the cursor (Tab completion), cursor after the new text.
    mutating func replaceBeforeCursor(from start: Int, with text: String) {
        let start = max(0, min(start, cursor))
        let new = Self.sanitized(text)
        characters.replaceSubrange(start..<cursor, with: new)
        cursor = start + new.count
    }

    /// Clears the line after sending it and records it in the history.
    mutating func commit() {
        history.record(text)
        characters = []
        cursor = 0
        scrollStart = 0
    }

    /// Applies an editing key. Returns `false` for keys that are not about the line, so the
    /// caller can give them another meaning.
    mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .character(let character): insert(String(character))
        case .paste(let text): insert(text)
        case .backspace, .ctrl("h"):
            guard cursor > 0 else { return true }
            characters.remove(at: cursor - 1)
            cursor -= 1
        case .delete, .ctrl("d"):
            guard cursor < characters.count else { return true }
            characters.remove(at: cursor)
        case .left, .ctrl("b"): cursor = max(0, cursor - 1)
        case .right, .ctrl("f"): cursor = min(characters.count, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = characters.count
        case .alt("b"): cursor = wordStart(before: cursor)
        case .alt("f"): cursor = wordEnd(after: cursor)
        case .ctrl("u"): kill(0..<cursor)
        case .ctrl("k"): kill(cursor..<characters.count)
        case .ctrl("w"): kill(wordStart(before: cursor)..<cursor)
        case .alt("d"): kill(cursor..<wordEnd(after: cursor))
        case .ctrl("y"): insert(String(killBuffer))
        case .up:
            if let line = history.previous(editing: text) { replaceFromHistory(line) }
        case .down:
            if let line = history.next() { replaceFromHistory(line) }
        default:
            return false
        }
        return true
    }

    private mutating func replaceFromHistory(_ line: String) {
        characters = Array(line)
        cursor = characters.count
    }

    private mutating func kill(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        killBuffer = Array(characters[range])
        characters.removeSubrange(range)
        cursor = range.lowerBound
    }

    /// Readline's `unix-word-rubout`: back over white space, then over the word before it.
    func wordStart(before index: Int) -> Int {
        var i = index
        while i > 0 && characters[i - 1].isWhitespace { i -= 1 }
        while i > 0 && !characters[i - 1].isWhitespace { i -= 1 }
        return i
    }

    func wordEnd(after index: Int) -> Int {
        var i = index
        while i < characters.count && characters[i].isWhitespace { i += 1 }
        while i < characters.count && !characters[i].isWhitespace { i += 1 }
        return i
    }

    // MARK: display

    /// How a character of the line is drawn: newlines and tabs as visible one-column symbols.
    static func displayed(_ character: Character) -> Character {
        switch character {
        case "\n": "⏎"
        case "\t": "⇥"
        default: character
        }
    }

    static func displayColumns(_ character: Character) -> Int {
        TerminalWidth.columns(of: displayed(character))
    }

    /// The columns from the start of the line to the cursor.
    var cursorColumn: Int {
        characters[0..<cursor].reduce(0) { $0 + Self.displayColumns($1) }
    }

    /// Moves the window for a field `width` columns wide. Called after every change; ``view(width:)``
    /// applies the same rule, so a missed call only costs the window's stability, not the cursor.
    mutating func fit(width: Int) {
        scrollStart = windowStart(width: width)
    }

    func view(width: Int) -> View {
        guard width > 0 else { return View(text: "", cursorColumn: 0) }
        let start = windowStart(width: width)
        var shown = ""
        var used = 0
        var cursorColumn = 0
        for index in start..<characters.count {
            if index == cursor { cursorColumn = used }
            let character = Self.displayed(characters[index])
            let columns = TerminalWidth.columns(of: character)
            if used + columns > width { break }
            shown.append(character)
            used += columns
        }
        if cursor == characters.count { cursorColumn = used }
        return View(text: shown, cursorColumn: cursorColumn)
    }

    /// The first character to show: the previous start if the cursor is still inside the window,
    /// moved just enough to bring it back otherwise, and moved back left while the rest of the line
    /// fits, so that deleting at the end of a long line scrolls the text back into view.
    private func windowStart(width: Int) -> Int {
        guard width > 0 else { return cursor }
        let cursorCell = cursor < characters.count ? max(1, Self.displayColumns(characters[cursor])) : 1
        var start = min(scrollStart, cursor, characters.count)
        var beforeCursor = characters[start..<cursor].reduce(0) { $0 + Self.displayColumns($1) }
        while start < cursor && beforeCursor + cursorCell > width {
            beforeCursor -= Self.displayColumns(characters[start])
            start += 1
        }
        // The cell after the last character is reserved even when the cursor is elsewhere: else
        // stepping left from the end of a long line would shift the whole text by one column.
        var tail = characters[start...].reduce(0) { $0 + Self.displayColumns($1) } + 1
        while start > 0 {
            let previous = Self.displayColumns(characters[start - 1])
            guard tail + previous <= width else { break }
            tail += previous
            start -= 1
        }
        return start
    }

    /// The characters of `text` the line can hold: CR LF and CR become LF (a paste from Windows or
    /// an old Mac), and control characters other than LF and tab are dropped.
    static func sanitized(_ text: String) -> [Character] {
        var result: [Character] = []
        for character in text {
            if character == "\r\n" || character == "\r" {
                result.append("\n")
            } else if character.unicodeScalars.contains(where: MessageText.isRefusedControl) {
                continue
            } else {
                result.append(character)
            }
        }
        return result
    }
}


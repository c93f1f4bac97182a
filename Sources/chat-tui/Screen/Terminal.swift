import CNCurses
import Foundation

/// The terminal through ncursesw: set up, read keys, put text, restore. Everything that touches
/// curses is here; what to draw is decided by the model and ``ScreenPainter``.
///
/// Curses is not thread-safe: one task owns the terminal and calls every method.
final class Terminal {
    /// Colour pairs: 1 for chrome (status line, active tab), then one per user colour.
    static let userColorCount = 6

    private(set) var hasColors = false
    private var started = false
    private var decoder: KeyDecoder

    init() {
        decoder = KeyDecoder(codes: KeyDecoder.KeyCodes(
            up: KEY_UP, down: KEY_DOWN, left: KEY_LEFT, right: KEY_RIGHT, home: KEY_HOME, end: KEY_END,
            pageUp: KEY_PPAGE, pageDown: KEY_NPAGE, delete: KEY_DC, backspace: KEY_BACKSPACE, enter: KEY_ENTER,
            resize: KEY_RESIZE, btab: KEY_BTAB, f0: chat_key_f(0)))
    }

    /// Takes over the screen: UTF-8 locale, raw keys, no echo, keypad codes, bracketed paste,
    /// colours when the terminal has them (a vt100 gets attributes only).
    func start() {
        setlocale(LC_ALL, "")
        chat_set_escdelay(25)
        initscr()
        raw()
        noecho()
        nonl()
        keypad(chat_stdscr(), true)
        curs_set(1)
        if has_colors() {
            start_color()
            use_default_colors()
            hasColors = true
            init_pair(1, Int16(COLOR_BLACK), Int16(COLOR_CYAN))
            let palette = [COLOR_GREEN, COLOR_YELLOW, COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN, COLOR_RED]
            for (index, color) in palette.prefix(Self.userColorCount).enumerated() {
                init_pair(Int16(2 + index), Int16(color), -1)
            }
        }
        writeRaw("\u{1B}[?2004h")
        started = true
    }

    /// Gives the terminal back as it was; safe to call more than once.
    func stop() {
        guard started else { return }
        started = false
        writeRaw("\u{1B}[?2004l")
        endwin()
    }

    var size: (columns: Int, rows: Int) {
        (Int(chat_cols()), Int(chat_lines()))
    }

    /// Waits up to `milliseconds` for input and returns the keys it made (often none). What is
    /// already there (a paste, an escape sequence) is read without waiting; after a lone ESC the
    /// wait is the escape delay, and the timeout that ends it is what makes it the Escape key.
    func readKeys(waitingUpTo milliseconds: Int32) -> [KeyDecoder.Output] {
        var outputs: [KeyDecoder.Output] = []
        var wait = milliseconds
        while true {
            wtimeout(chat_stdscr(), decoder.isWaitingAfterEscape ? 25 : wait)
            var character: wint_t = 0
            let input: KeyDecoder.Input = switch wget_wch(chat_stdscr(), &character) {
            case OK: Unicode.Scalar(UInt32(character)).map { .scalar($0) } ?? .timeout
            case KEY_CODE_YES: .keyCode(Int32(character))
            default: .timeout
            }
            outputs += decoder.feed(input)
            if case .timeout = input { return outputs }
            wait = 0
        }
    }

    // MARK: drawing

    struct Style: Equatable {
        var bold = false
        var reverse = false
        var dim = false
        var underline = false
        /// 0 for the default colours, 1 for chrome, 2… for user colours.
        var colorPair: Int = 0
    }

    func clear() {
        werase(chat_stdscr())
    }

    /// Writes `text` at a row and column, cut to `width` display columns (never splitting a wide
    /// character), and pads the rest of the width with spaces when `fill` is set.
    func put(_ text: String, row: Int, column: Int, width: Int, style: Style = Style(), fill: Bool = false) {
        guard width > 0, row >= 0, column >= 0 else { return }
        var used = 0
        var fitted = ""
        for character in text {
            let columns = TerminalWidth.columns(of: character)
            if used + columns > width { break }
            used += columns
            fitted.append(character == "\t" || character == "\n" ? " " : character)
        }
        if fill && used < width { fitted += String(repeating: " ", count: width - used) }
        let attributes = attributes(for: style)
        wattr_on(chat_stdscr(), attributes, nil)
        _ = fitted.withCString(encodedAs: UTF32.self) { pointer in
            pointer.withMemoryRebound(to: wchar_t.self, capacity: fitted.unicodeScalars.count + 1) {
                mvwaddwstr(chat_stdscr(), Int32(row), Int32(column), $0)
            }
        }
        wattr_off(chat_stdscr(), attributes, nil)
    }

    /// A horizontal rule with the terminal's line-drawing character (a `-` on a terminal without).
    func horizontalLine(row: Int, column: Int, width: Int) {
        guard width > 0 else { return }
        wmove(chat_stdscr(), Int32(row), Int32(column))
        whline_set(chat_stdscr(), chat_wacs_hline(), Int32(width))
    }

    func verticalLine(row: Int, column: Int, height: Int) {
        guard height > 0 else { return }
        wmove(chat_stdscr(), Int32(row), Int32(column))
        wvline_set(chat_stdscr(), chat_wacs_vline(), Int32(height))
    }

    func moveCursor(row: Int, column: Int) {
        wmove(chat_stdscr(), Int32(row), Int32(column))
    }

    func refresh() {
        wrefresh(chat_stdscr())
    }

    func bell() {
        beep()
    }

    private func attributes(for style: Style) -> attr_t {
        var value: attr_t = 0
        if style.bold { value |= chat_a_bold() }
        if style.reverse { value |= chat_a_reverse() }
        if style.dim { value |= chat_a_dim() }
        if style.underline { value |= chat_a_underline() }
        if hasColors && style.colorPair > 0 { value |= chat_color_pair(Int32(style.colorPair)) }
        return value
    }

    private func writeRaw(_ sequence: String) {
        FileHandle.standardOutput.write(Data(sequence.utf8))
    }
}

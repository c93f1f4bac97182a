import Foundation
import Shared

/// How the message pane is laid out: `HH:MM name: text`, wrapped at word boundaries by terminal
/// columns (so CJK and emoji never overflow the pane), long words broken where they must be, the
/// message's own newlines kept, and continuation lines indented under the text. A message that
/// continues its sender's previous one shows the time and spaces in place of the name; one whose
/// text is `* sender …` (`/me`) reads ` * alice waves`. Pure, so the scrollback can count lines
/// exactly as the screen will draw them.
enum MessageLayout {
    /// One row of the message pane.
    struct Line: Equatable, Sendable {
        enum Kind: Equatable, Sendable {
            case text
            /// A day change or a join or leave: drawn dim.
            case aside
            /// The new-messages divider: drawn to stand out.
            case divider
        }

        var text: String
        /// The message this row belongs to; `nil` for the lines between messages.
        var messageID: Int64?
        /// Set on a message's first row: the sender, and the columns their name takes on this row,
        /// for the screen to draw in the sender's colour (``UserColor``).
        var sender: String?
        var senderColumns: Range<Int>?
        var kind = Kind.text
    }

    /// Columns of `HH:MM ` before the sender's name, with a 24-hour clock.
    static let clockColumns = 6
    static let tabSpaces = "    "

    static func lines(for message: ChatMessage, width: Int, timeZone: TimeZone = .current) -> [String] {
        layout(message, width: width, timeZone: timeZone).map(\.text)
    }

    static func layout(_ message: ChatMessage, width: Int, timeZone: TimeZone = .current) -> [Line] {
        layout(.message(message, continued: false), width: width, clock: .twentyFourHour(timeZone: timeZone))
    }

    /// The text after `* ` of a `/me` message (`* alice waves` from alice → `waves`), or `nil`.
    static func action(of message: ChatMessage) -> Substring? {
        let marker = "* \(message.from) "
        guard message.message.hasPrefix(marker) || message.message == "* \(message.from)" else { return nil }
        return message.message.dropFirst(marker.count)
    }

    static func layout(_ item: PaneItem, width: Int, clock: MessageClock) -> [Line] {
        let width = max(1, width)
        switch item {
        case .message(let message, let continued):
            return layoutMessage(message, continued: continued, width: width, clock: clock)
        case .dayChange(let day):
            return wrap("-- \(day) --", first: width, rest: width).map { Line(text: $0, kind: .aside) }
        case .newMessages:
            let label = " new messages "
            let side = max(2, (width - TerminalWidth.columns(of: label)) / 2)
            let line = String(repeating: "-", count: side) + label + String(repeating: "-", count: side)
            return [Line(text: String(line.prefix(width)), kind: .divider)]
        case .notice(let text, let date):
            let prefix = clock.time(of: date) + " "
            let indent = TerminalWidth.columns(of: prefix) <= width / 3 ? TerminalWidth.columns(of: prefix) : 0
            return wrap(prefix + text, first: width, rest: width - indent).enumerated().map { index, row in
                Line(text: index == 0 ? row : String(repeating: " ", count: indent) + row, kind: .aside)
            }
        }
    }

    private static func layoutMessage(_ message: ChatMessage, continued: Bool, width: Int, clock: MessageClock) -> [Line] {
        let time = clock.time(message.ts)
        let nameColumns = TerminalWidth.columns(of: message.from)
        let prefix: String
        var body = Substring(message.message)
        var nameStart = clock.columns + 1
        if let action = action(of: message) {
            prefix = "\(time)  * \(message.from) "
            nameStart += 3
            body = action
        } else if continued {
            prefix = time + String(repeating: " ", count: 1 + nameColumns + 2)
        } else {
            prefix = "\(time) \(message.from): "
        }
        let prefixColumns = TerminalWidth.columns(of: prefix)
        let timeColumns = clock.columns + 1
        // Under the text when the prefix leaves room for it, else just past the clock.
        let indent = prefixColumns <= width / 3 ? prefixColumns : (width >= 2 * timeColumns ? timeColumns : 0)
        let padding = String(repeating: " ", count: indent)

        var rows: [String] = []
        let paragraphs = body.replacingOccurrences(of: "\t", with: tabSpaces)
            .split(separator: "\n", omittingEmptySubsequences: false)
        for (number, paragraph) in paragraphs.enumerated() {
            let wrapped = number == 0
                ? wrap(prefix + paragraph, first: width, rest: width - indent)
                : wrap(String(paragraph), first: width - indent, rest: width - indent)
            for (index, row) in wrapped.enumerated() {
                let isFirstRow = number == 0 && index == 0
                rows.append(isFirstRow || row.isEmpty ? row : padding + row)
            }
        }
        let nameEnd = min(nameStart + nameColumns, TerminalWidth.columns(of: rows[0]))
        return rows.enumerated().map { index, row in
            index == 0 && !continued
                ? Line(text: row, messageID: message.id, sender: message.from,
                       senderColumns: nameStart..<max(nameStart, nameEnd))
                : Line(text: row, messageID: message.id)
        }
    }

    /// Wraps one paragraph greedily: `first` columns on its first row, `rest` on the others. White
    /// space at a break is dropped; white space that starts the paragraph is kept (indented code).
    static func wrap(_ text: String, first: Int, rest: Int) -> [String] {
        let rest = max(1, rest)
        var rows: [String] = []
        var row = ""
        var used = 0
        var limit = max(1, first)
        var spaces = ""
        var spaceColumns = 0

        func breakRow() {
            rows.append(row)
            row = ""
            used = 0
            limit = rest
            spaces = ""
            spaceColumns = 0
        }

        for token in tokens(text) {
            let columns = TerminalWidth.columns(of: token)
            if token.first!.isWhitespace {
                spaces += token
                spaceColumns += columns
                continue
            }
            if used + spaceColumns + columns <= limit {
                row += spaces + token
                used += spaceColumns + columns
                spaces = ""
                spaceColumns = 0
                continue
            }
            if used > 0 && columns <= rest {
                breakRow()
                row = token
                used = columns
                continue
            }
            // A word longer than a row: break it by characters, wide ones never split.
            if used + spaceColumns < limit {
                row += spaces
                used += spaceColumns
            }
            spaces = ""
            spaceColumns = 0
            for character in token {
                let characterColumns = TerminalWidth.columns(of: character)
                if used + characterColumns > limit && used > 0 { breakRow() }
                row.append(character)
                used += characterColumns
            }
        }
        rows.append(row)
        return rows
    }

    /// Runs of white space and runs of anything else.
    private static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var currentIsSpace = false
        for character in text {
            if !current.isEmpty && character.isWhitespace != currentIsSpace {
                tokens.append(current)
                current = ""
            }
            currentIsSpace = character.isWhitespace
            current.append(character)
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// The rows of the message pane for `items`, `offset` rows up from the newest one and at
    /// most `height` rows, oldest first. Only the items that reach the window are laid out.
    static func window(_ items: [PaneItem], width: Int, height: Int, offset: Int, clock: MessageClock) -> [Line] {
        guard height > 0 else { return [] }
        var newestFirst: [[Line]] = []
        var count = 0
        for item in items.reversed() where count < offset + height {
            let rows = layout(item, width: width, clock: clock)
            newestFirst.append(rows)
            count += rows.count
        }
        let collected = Array(newestFirst.reversed().joined())
        let end = max(0, collected.count - offset)
        return Array(collected[max(0, end - height)..<end])
    }

    /// Messages alone, none continuing another, in a 24-hour clock: what the layout tests use.
    static func window(_ messages: [ChatMessage], width: Int, height: Int, offset: Int,
                       timeZone: TimeZone = .current) -> [Line] {
        window(messages.map { .message($0, continued: false) }, width: width, height: height, offset: offset,
               clock: .twentyFourHour(timeZone: timeZone))
    }

    /// How many rows `items` take at `width`.
    static func lineCount(_ items: some Sequence<PaneItem>, width: Int, clock: MessageClock) -> Int {
        items.reduce(0) { $0 + layout($1, width: width, clock: clock).count }
    }

    static func lineCount(_ messages: some Sequence<ChatMessage>, width: Int) -> Int {
        lineCount(messages.map { PaneItem.message($0, continued: false) }, width: width, clock: .twentyFourHour())
    }

    /// `HH:MM` of an RFC 3339 UTC timestamp (`2026-11-21T09:30:00.123Z`) in `timeZone`; `--:--` if
    /// the server sent something else.
    static func clock(_ timestamp: String, timeZone: TimeZone) -> String {
        MessageClock.twentyFourHour(timeZone: timeZone).time(timestamp)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

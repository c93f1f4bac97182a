import Foundation
import Shared

/// How a message is laid out in the message pane: `HH:MM name: text`, wrapped at word boundaries by
/// terminal columns (so CJK and emoji never overflow the pane), long words broken where they must
/// be, the message's own newlines kept, and continuation lines indented under the text. Pure, so the
/// scrollback can count lines exactly as the screen will draw them.
enum MessageLayout {
    /// One row of the message pane.
    struct Line: Equatable, Sendable {
        var text: String
        /// The message this row belongs to.
        var messageID: Int64
        /// Set on a message's first row: the sender, and the columns their name takes on this row,
        /// for the screen to draw in the sender's colour (``UserColor``).
        var sender: String?
        var senderColumns: Range<Int>?
    }

    /// Columns of `HH:MM ` before the sender's name.
    static let clockColumns = 6
    static let tabSpaces = "    "

    static func lines(for message: ChatMessage, width: Int, timeZone: TimeZone = .current) -> [String] {
        layout(message, width: width, timeZone: timeZone).map(\.text)
    }

    static func layout(_ message: ChatMessage, width: Int, timeZone: TimeZone = .current) -> [Line] {
        let width = max(1, width)
        let prefix = "\(clock(message.ts, timeZone: timeZone)) \(message.from): "
        let prefixColumns = TerminalWidth.columns(of: prefix)
        // Under the text when the prefix leaves room for it, else just past the clock.
        let indent = prefixColumns <= width / 3 ? prefixColumns : (width >= 2 * clockColumns ? clockColumns : 0)
        let padding = String(repeating: " ", count: indent)

        var rows: [String] = []
        let paragraphs = message.message.replacingOccurrences(of: "\t", with: tabSpaces)
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
        let nameColumns = TerminalWidth.columns(of: message.from)
        let nameEnd = min(clockColumns + nameColumns, TerminalWidth.columns(of: rows[0]))
        return rows.enumerated().map { index, row in
            index == 0
                ? Line(text: row, messageID: message.id, sender: message.from,
                       senderColumns: clockColumns..<max(clockColumns, nameEnd))
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

    /// The rows of the message pane for `messages`, `offset` rows up from the newest one and at
    /// most `height` rows, oldest first. Only the messages that reach the window are laid out.
    static func window(_ messages: [ChatMessage], width: Int, height: Int, offset: Int,
                       timeZone: TimeZone = .current) -> [Line] {
        guard height > 0 else { return [] }
        var newestFirst: [[Line]] = []
        var count = 0
        for message in messages.reversed() where count < offset + height {
            let rows = layout(message, width: width, timeZone: timeZone)
            newestFirst.append(rows)
            count += rows.count
        }
        let collected = Array(newestFirst.reversed().joined())
        let end = max(0, collected.count - offset)
        return Array(collected[max(0, end - height)..<end])
    }

    /// How many rows `messages` take at `width`. The clock is always five columns, so the time
    /// zone does not change the count.
    static func lineCount(_ messages: some Sequence<ChatMessage>, width: Int) -> Int {
        messages.reduce(0) { $0 + layout($1, width: width, timeZone: .gmt).count }
    }

    /// `HH:MM` of an RFC 3339 UTC timestamp (`2026-11-21T09:30:00.123Z`) in `timeZone`; `--:--` if
    /// the server sent something else. Parsed by hand: this runs for every message on every redraw.
    static func clock(_ timestamp: String, timeZone: TimeZone) -> String {
        let bytes = Array(timestamp.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 16, bytes[10] == UInt8(ascii: "T"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16)
        else { return "--:--" }
        let second = number(17..<19) ?? 0
        let epoch = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(epoch)))
        let secondOfDay = ((epoch + offset) % 86_400 + 86_400) % 86_400
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(secondOfDay / 3_600)):\(two(secondOfDay % 3_600 / 60))"
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

import Foundation

/// How the message pane writes times and days: in the terminal's time zone and after its locale's
/// habit (`LC_ALL`, `LC_TIME`, then `LANG`, as `date` reads them), so that a user in the US reads
/// `9:30 PM` and one in Germany `21:30`. A value, so that the model and its tests stay free of
/// the process's environment: tests pass ``twentyFourHour(timeZone:)``.
struct MessageClock: Sendable, Equatable {
    var timeZone: TimeZone
    /// The locale's identifier (`en_US`), for the names of days and months.
    var localeIdentifier: String
    var twentyFourHour: Bool
    var amSymbol = "AM"
    var pmSymbol = "PM"

    /// Columns every clock takes, padded on the left (`12:30 PM` and ` 9:30 PM` line up).
    var columns: Int {
        twentyFourHour ? 5 : 5 + 1 + max(amSymbol.count, pmSymbol.count)
    }

    static func twentyFourHour(timeZone: TimeZone = .gmt) -> MessageClock {
        MessageClock(timeZone: timeZone, localeIdentifier: "en_GB", twentyFourHour: true)
    }

    /// The terminal's: its time zone, and the locale named by the environment. `C` and `POSIX`
    /// (no locale set) get a 24-hour clock and English names.
    static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> MessageClock {
        let raw = [environment["LC_ALL"], environment["LC_TIME"], environment["LANG"]]
            .compactMap { $0 }.first { !$0.isEmpty } ?? "C"
        let identifier = String(raw.prefix { $0 != "." && $0 != "@" })
        guard identifier != "C", identifier != "POSIX" else { return .twentyFourHour(timeZone: .current) }
        let locale = Locale(identifier: identifier)
        // The locale's hour pattern (`h a`, `HH`, `HH 'Uhr'`), its quoted words left out.
        let pattern = (DateFormatter.dateFormat(fromTemplate: "j", options: 0, locale: locale) ?? "HH")
            .split(separator: "'", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 0 }.map(\.element).joined()
        var clock = MessageClock(timeZone: .current, localeIdentifier: identifier,
                                 twentyFourHour: !pattern.contains("a") && !pattern.contains("h"))
        if !clock.twentyFourHour {
            let formatter = DateFormatter()
            formatter.locale = locale
            clock.amSymbol = formatter.amSymbol.isEmpty ? "AM" : formatter.amSymbol
            clock.pmSymbol = formatter.pmSymbol.isEmpty ? "PM" : formatter.pmSymbol
        }
        return clock
    }

    /// Seconds since 1970 of an RFC 3339 UTC timestamp (`2026-11-21T09:30:00.123Z`), or `nil`.
    /// Parsed by hand: this runs for every message on every redraw.
    static func epoch(_ timestamp: String) -> Int? {
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
        else { return nil }
        let second = number(17..<19) ?? 0
        return MessageLayout.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// Seconds since local midnight 1970-01-01 of a moment: its local day is this divided by a day.
    func local(_ epoch: Int) -> Int {
        epoch + timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    /// The local day number (days since 1970-01-01) of a timestamp; `nil` if it is not one.
    func day(_ timestamp: String) -> Int? {
        Self.epoch(timestamp).map { Self.floorDiv(local($0), 86_400) }
    }

    func day(of date: Date) -> Int {
        Self.floorDiv(local(Int(date.timeIntervalSince1970.rounded(.down))), 86_400)
    }

    /// The time of a timestamp, ``columns`` wide; dashes if the server sent something else.
    func time(_ timestamp: String) -> String {
        guard let epoch = Self.epoch(timestamp) else { return pad("--:--") }
        return time(ofEpoch: epoch)
    }

    func time(of date: Date) -> String {
        time(ofEpoch: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    private func time(ofEpoch epoch: Int) -> String {
        let secondOfDay = ((local(epoch) % 86_400) + 86_400) % 86_400
        let hour = secondOfDay / 3_600
        let minute = secondOfDay % 3_600 / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if twentyFourHour { return "\(two(hour)):\(two(minute))" }
        let twelve = hour % 12 == 0 ? 12 : hour % 12
        return pad("\(twelve):\(two(minute)) \(hour < 12 ? amSymbol : pmSymbol)")
    }

    private func pad(_ text: String) -> String {
        String(repeating: " ", count: max(0, columns - text.count)) + text
    }

    /// The words of a day-change line: weekday, day and month, and the year unless it is the year
    /// of `today` (a local day number), in the locale's order (`Monday 7 December`, `Monday,
    /// December 7, 2025`).
    func dayName(_ day: Int, today: Int) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(day * 86_400 - timeZone.secondsFromGMT() + 12 * 3_600))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: localeIdentifier)
        formatter.timeZone = timeZone
        let sameYear = Self.year(ofDay: day) == Self.year(ofDay: today)
        formatter.setLocalizedDateFormatFromTemplate(sameYear ? "EEEEdMMMM" : "EEEEdMMMMyyyy")
        return formatter.string(from: date)
    }

    static func year(ofDay day: Int) -> Int {
        // Inverse of daysFromCivil, enough for the year (Howard Hinnant's civil_from_days).
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}

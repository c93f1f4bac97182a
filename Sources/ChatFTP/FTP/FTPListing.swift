import ChatCore
import FTPProtocol
import NIOCore

/// The text of directory listings: `LIST`'s `ls -l` lines, `NLST`'s names, `MLSD`/`MLST`'s facts
/// (RFC 3659) and `MDTM`'s time value.
///
/// Pure functions of the entries and of `nowMillis`, which the caller passes in: `LIST` writes
/// recent and old files differently, and a test must be able to stand on either side of the line.
/// All times are UTC.
package enum FTPListing {
    /// What a listing shows of one file.
    package struct Entry: Sendable, Equatable {
        package var name: String
        package var ownerName: String
        package var size: Int64
        package var modifiedMillis: Int64
        /// Whether the user listing may delete, rename and replace it (in chatd: owns it).
        package var userMayModify: Bool
        /// A stable identifier of the content (the blob name) for MLSD's `unique` fact, so a
        /// client can tell a renamed file from a new one.
        package var unique: String
    }

    /// Half of a mean Gregorian year, GNU `ls`'s idea of six months: `LIST` shows a time of day
    /// within it and the year beyond it.
    package static let sixMonthsMillis: Int64 = 31_556_952_000 / 2

    // MARK: LIST

    /// One `LIST` line, `-rw-r--r-- 1 owner owner size Mon DD HH:MM name`, the `ls -l` form that
    /// clients parse. A time more than six months before or after `nowMillis` shows
    /// `Mon DD  YYYY` instead of the time of day, as `ls` does.
    ///
    /// The mode says what the listing user may do, as `MLSD`'s `perm` fact does: `-rw-r--r--` for
    /// their own files, `-r--r--r--` for everyone else's. Clients read the owner bits as their own
    /// rights (they cannot know the account behind the owner name), so showing the owner's rights
    /// on another user's file would offer edits that are then refused.
    package static func listLine(_ entry: Entry, nowMillis: Int64) -> String {
        let time = CivilTime(millis: entry.modifiedMillis)
        let recent = abs(nowMillis - entry.modifiedMillis) <= sixMonthsMillis
        let date = "\(monthNames[time.month - 1]) \(pad(time.day, 2)) "
            + (recent ? "\(pad(time.hour, 2)):\(pad(time.minute, 2))" : " \(time.year)")
        let owner = padRight(entry.ownerName, 8)
        let mode = entry.userMayModify ? "-rw-r--r--" : "-r--r--r--"
        return "\(mode) 1 \(owner) \(owner) \(padLeft(String(entry.size), 12)) \(date) \(entry.name)"
    }

    // MARK: NLST

    /// One `NLST` line: the name alone.
    package static func nameLine(_ entry: Entry) -> String {
        entry.name
    }

    // MARK: MLSD and MLST

    /// One `MLSD` line (and the facts line of `MLST`): `type=file;size=N;modify=…;perm=…;unique=…; name`.
    ///
    /// `perm` says what the user may do (RFC 3659 §7.5.5): every user may retrieve (`r`); the
    /// owner may also delete (`d`), rename (`f`) and store over it (`w`).
    package static func factsLine(_ entry: Entry) -> String {
        let perm = entry.userMayModify ? "rdfw" : "r"
        return "type=file;size=\(entry.size);modify=\(timeValue(millis: entry.modifiedMillis, fraction: true));"
            + "perm=\(perm);unique=\(factValue(entry.unique)); \(entry.name)"
    }

    /// The facts line for the one directory, `/`, as `MLST /` shows it: the listed directory
    /// itself is `type=cdir`. It may be entered and listed (`el`), and a user who may upload may
    /// create files in it (`c`).
    package static func rootFactsLine(userMayCreate: Bool) -> String {
        "type=cdir;perm=el\(userMayCreate ? "c" : ""); /"
    }

    // MARK: Times

    /// RFC 3659's time value, `YYYYMMDDHHMMSS` in UTC, with `.sss` milliseconds if `fraction`.
    ///
    /// `MDTM` uses it without the fraction: some clients read exactly fourteen digits. `MLSD`'s
    /// `modify` fact keeps the milliseconds.
    package static func timeValue(millis: Int64, fraction: Bool = false) -> String {
        let time = CivilTime(millis: millis)
        var text = pad(time.year, 4) + pad(time.month, 2) + pad(time.day, 2)
            + pad(time.hour, 2) + pad(time.minute, 2) + pad(time.second, 2)
        if fraction { text += "." + pad(time.millisecond, 3) }
        return text
    }

    // MARK: The data connection

    /// Listing lines as the data connection carries them: each ends in CRLF, whatever the `TYPE`.
    package static func wire(_ lines: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for line in lines {
            buffer.writeString(line)
            buffer.writeString("\r\n")
        }
        return buffer
    }

    // MARK: Helpers

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A fact value cannot hold `;` (the fact separator), a space (the end of the facts) or a
    /// control character; the identifiers we pass never do, and this makes sure.
    private static func factValue(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0 != ";" && $0 != " " && $0.value >= 0x21 && $0.value != 0x7F }.map(Character.init))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        padLeft(String(value), width, with: "0")
    }

    private static func padLeft(_ text: String, _ width: Int, with filler: Character = " ") -> String {
        String(repeating: filler, count: max(0, width - text.count)) + text
    }

    private static func padRight(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    /// A UTC calendar date and time, computed with Howard Hinnant's `civil_from_days`: no
    /// formatter, no time zone database, and correct for dates before 1970 too.
    private struct CivilTime {
        let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int

        init(millis: Int64) {
            let (days, millisOfDay) = Self.floorDivide(millis, 86_400_000)
            millisecond = Int(millisOfDay % 1000)
            second = Int(millisOfDay / 1000 % 60)
            minute = Int(millisOfDay / 60_000 % 60)
            hour = Int(millisOfDay / 3_600_000)

            let z = days + 719_468
            let (era, _) = Self.floorDivide(z, 146_097)
            let dayOfEra = z - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let shiftedMonth = (5 * dayOfYear + 2) / 153
            day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
            month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
            year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        }

        private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
            let remainder = value % divisor
            return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
        }
    }
}

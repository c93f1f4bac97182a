/// Sizes as operators write them: a byte count with an optional `K`, `M` or `G` suffix, powers
/// of 1024 (PROTOCOL.md §6). Parsing and writing live together so that a limit is reported in
/// the unit it was configured in: `--max-file-size 1M` refuses with "the limit of 1M", not
/// "1048576 bytes".
public enum ByteSize {
    private static let units: [(suffix: Character, bytes: Int64)] = [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]

    /// `1048576`, `512K`, `100M`, `1G` (any case, surrounding spaces ignored); `nil` for anything else.
    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingSpaces)
        var multiplier: Int64 = 1
        if let last = digits.last.map({ Character($0.uppercased()) }), let unit = units.first(where: { $0.suffix == last }) {
            multiplier = unit.bytes
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits), value <= Int64.max / multiplier else {
            return nil
        }
        return value * multiplier
    }

    /// The shortest exact spelling: `1M` for 1048576, `1536K` for 1572864, `1500 bytes` for 1500.
    public static func text(_ bytes: Int64) -> String {
        if bytes > 0, let unit = units.first(where: { bytes % $0.bytes == 0 }) {
            return "\(bytes / unit.bytes)\(unit.suffix)"
        }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

private extension String {
    var trimmingSpaces: Substring {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = lastIndex { $0 != " " && $0 != "\t" }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}

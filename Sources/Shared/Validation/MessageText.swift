/// The rules for the text of a chat message (PROTOCOL.md §2 and §6): trimmed of Unicode white space
/// first, then 1...limit Unicode scalars, with no control characters left inside but newline and tab.
public enum MessageText {
    /// Trims and checks `raw`, returning the text to store or the refusal to send back.
    public static func validate(_ raw: String, maxScalars: Int) -> Result<String, ProtocolError> {
        let scalars = raw.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else {
            return .failure(ProtocolError(.empty, "message is empty"))
        }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        let trimmed = scalars[first...last]
        var count = 0
        for scalar in trimmed {
            if isRefusedControl(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return .failure(ProtocolError(.badRequest, "message contains control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)"))
            }
            count += 1
        }
        if count > maxScalars {
            return .failure(ProtocolError(.tooLong, "message is \(count) characters, the limit is \(maxScalars)"))
        }
        return .success(String(String.UnicodeScalarView(trimmed)))
    }

    /// C0 controls other than newline and tab, DEL, and the C1 block.
    public static func isRefusedControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: false
        case 0x00...0x1F, 0x7F, 0x80...0x9F: true
        default: false
        }
    }
}

/// The rules for account names (PROTOCOL.md §1): 1–32 of `A–Z a–z 0–9 _ . -`, not starting with
/// `.` or `-`, unique case-insensitively, some names reserved for the operator.
public enum Username {
    public static let maxLength = 32
    /// Names nobody can register by logging in; `admin` can still be created with `chatd user add`.
    public static let reserved: Set<String> = ["broadcast", "server", "system", "admin"]
    /// Names not even the operator may create, because they would collide with the protocol itself.
    public static let protocolReserved: Set<String> = ["broadcast", "server", "system"]

    /// Checks the spelling only; reservation depends on who is asking (see ``checkRegistrable``).
    public static func validate(_ name: String) -> Result<String, ProtocolError> {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else {
            return .failure(ProtocolError(.badRequest, "username is empty"))
        }
        guard bytes.count <= maxLength else {
            return .failure(ProtocolError(.badRequest, "username is longer than \(maxLength) characters"))
        }
        for byte in bytes where !isAllowed(byte) {
            return .failure(ProtocolError(.badRequest, "username may contain only A-Z a-z 0-9 _ . -"))
        }
        if bytes[0] == UInt8(ascii: ".") || bytes[0] == UInt8(ascii: "-") {
            return .failure(ProtocolError(.badRequest, "username may not start with '.' or '-'"))
        }
        return .success(name)
    }

    /// Checks spelling and reservation for a new account.
    public static func checkRegistrable(_ name: String, byOperator: Bool) -> Result<String, ProtocolError> {
        validate(name).flatMap { name in
            let key = canonicalKey(name)
            if (byOperator ? protocolReserved : reserved).contains(key) {
                return .failure(ProtocolError(.badRequest, "the name '\(name)' is reserved"))
            }
            return .success(name)
        }
    }

    /// The case-insensitive identity of a name: `Alice` and `alice` are one account. Names are
    /// ASCII by rule, so ASCII lowercasing is exact.
    public static func canonicalKey(_ name: String) -> String {
        String(decoding: name.utf8.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Whether a byte may appear in a name: ASCII letters, digits, `_`, `.` and `-` (all of which
    /// JSON and file listings carry unescaped).
    public static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}

import Foundation

/// The rules for names in the shared file area (PROTOCOL.md §3): 1–255 bytes of UTF-8 after NFC
/// normalisation, no `/`, `\`, NUL or other control characters, not `.` or `..`, no leading or
/// trailing space. Every door (HTTP, FTP) checks names here, so a name that one refuses the
/// other refuses too.
public enum FileName {
    public static let maxBytes = 255

    /// The stored form of `raw`, or why it is refused.
    public static func validate(_ raw: String) -> Result<String, ProtocolError> {
        let name = raw.precomposedStringWithCanonicalMapping
        let bytes = name.utf8.count
        if bytes == 0 {
            return .failure(ProtocolError(.badRequest, "file name is empty"))
        }
        if bytes > maxBytes {
            return .failure(ProtocolError(.badRequest, "file name is \(bytes) bytes of UTF-8; the limit is \(maxBytes)"))
        }
        if name == "." || name == ".." {
            return .failure(ProtocolError(.badRequest, "file name may not be '.' or '..'"))
        }
        // By scalar: a space followed by a combining mark, or after a prepended mark, is part of
        // a larger Character, which `hasPrefix(" ")` and `hasSuffix(" ")` would not see.
        if name.unicodeScalars.first == " " || name.unicodeScalars.last == " " {
            return .failure(ProtocolError(.badRequest, "file name may not start or end with a space"))
        }
        for scalar in name.unicodeScalars {
            if scalar == "/" || scalar == "\\" {
                return .failure(ProtocolError(.badRequest, "file name may not contain '/' or '\\'"))
            }
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                return .failure(ProtocolError(.badRequest, "file name may not contain control characters"))
            }
        }
        return .success(name)
    }
}

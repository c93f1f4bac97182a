/// Refuses, before multipart-kit's `MultipartParser` sees it, a byte from 0x80 up where the parser
/// reads a part's header name: it looks such a byte up in a 128-entry table and stops the process.
///
/// A mirror of the parser's own states (multipart-kit 4.7.1, `MultipartParser.swift`), tracking
/// only where it is, so the guard sees a header name exactly when the parser does. Where the
/// parser would throw a syntax error the guard stops looking: the parser throws there first.
public struct MultipartHeaderGuard: Sendable {
    private enum State: Sendable {
        case preamble(matched: Int)
        /// After a delimiter: `CR LF` must follow (`lf`: the CR was seen).
        case preHeaders(lf: Bool)
        case headerName(empty: Bool)
        case headerValue
        case postHeaderValue
        case postHeaders
        case body
        case boundary(matched: Int)
        /// After the close delimiter, or past a syntax error: nothing more reaches a header name.
        case done
    }

    private static let cr: UInt8 = 13, lf: UInt8 = 10, colon: UInt8 = 58

    /// RFC 7230's `tchar`, the bytes the parser's table allows in a header name.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private let delimiter: [UInt8]
    private var state = State.preamble(matched: 0)

    public init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// Follows `bytes`; `false` if one of them is a byte the parser cannot take in a header name.
    public mutating func admit<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        for byte in bytes where !step(byte) { return false }
        return true
    }

    private mutating func step(_ byte: UInt8) -> Bool {
        switch state {
        case .preamble(let matched):
            if matched == 0, byte == delimiter[2] {
                state = .preamble(matched: 3)
            } else if byte == delimiter[matched] {
                state = .preamble(matched: matched + 1)
            } else if matched > 0, byte == delimiter[0] {
                state = .preamble(matched: 1)
            } else {
                state = .preamble(matched: 0)
            }
            if case .preamble(let now) = state, now >= delimiter.count { state = .preHeaders(lf: false) }
        case .preHeaders(let lf):
            switch (lf, byte) {
            case (false, Self.cr): state = .preHeaders(lf: true)
            case (true, Self.lf): state = .headerName(empty: true)
            default: state = .done
            }
        case .headerName(let empty):
            if byte == Self.colon, !empty {
                state = .headerValue
            } else if byte == Self.cr, empty {
                state = .postHeaders
            } else if byte >= 0x80 {
                return false
            } else {
                state = Self.isTokenByte(byte) ? .headerName(empty: false) : .done
            }
        case .headerValue:
            if byte == Self.cr { state = .postHeaderValue }
        case .postHeaderValue:
            state = byte == Self.lf ? .headerName(empty: true) : .done
        case .postHeaders:
            state = byte == Self.lf ? .body : .done
        case .body:
            if byte == delimiter[0] { state = .boundary(matched: 1) }
        case .boundary(let matched):
            if matched >= delimiter.count {
                switch byte {
                case Self.cr: state = .preHeaders(lf: true)
                default: state = .done
                }
            } else if byte == delimiter[matched] {
                state = .boundary(matched: matched + 1)
            } else {
                state = byte == delimiter[0] ? .boundary(matched: 1) : .body
            }
        case .done:
            break
        }
        return true
    }
}

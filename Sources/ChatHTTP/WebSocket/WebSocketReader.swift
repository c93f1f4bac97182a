import NIOCore
import NIOWebSocket

/// The inbound half of RFC 6455 for one chat session, as a pure state machine: frames in,
/// what the connection must do out. Tested without sockets (`WebSocketReaderTests`); the
/// channel handler only performs its actions.
///
/// It reassembles fragmented messages up to `maxMessageBytes` (PROTOCOL.md: 64 KiB, else 1009),
/// checks a text message's UTF-8 (1007), refuses anything RFC 6455 forbids (1002: reserved bits,
/// unknown opcodes, a continuation with nothing to continue, a close frame with a malformed body),
/// answers pings, and notes pongs for the missed-pong rule. Whether binary data is welcome is
/// the endpoint's business (the chat refuses it with 1003).
struct WebSocketReader {
    enum Action: Equatable {
        /// A whole message: text (valid UTF-8) or binary.
        case message(ByteBuffer, binary: Bool)
        /// Answer a ping with a pong carrying its data.
        case pong(ByteBuffer)
        /// The client answered a ping.
        case pongReceived
        /// Close the session with this code (and reason): a protocol violation.
        case fail(code: UInt16, reason: String)
        /// The client closed: answer with a close frame (its code, or none) and end the connection.
        case answerClose(code: UInt16?)
        case none
    }

    let maxMessageBytes: Int
    /// The message being reassembled from fragments.
    private var fragments: ByteBuffer?
    private var fragmentsAreBinary = false
    /// Once a close was sent or asked for, data frames are ignored (RFC 6455 §5.5.1).
    private(set) var closing = false

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// The server sent (or is sending) its close frame.
    mutating func startClosing() {
        closing = true
        fragments = nil
    }

    mutating func receive(_ frame: WebSocketFrame) -> Action {
        if frame.rsv1 || frame.rsv2 || frame.rsv3 {
            return fail(1002, "reserved bits set")
        }
        switch frame.opcode {
        case .continuation:
            guard !closing else { return .none }
            guard var message = fragments else { return fail(1002, "continuation without a message to continue") }
            fragments = nil
            guard message.readableBytes + frame.length <= maxMessageBytes else { return tooLarge() }
            var data = frame.unmaskedData
            message.writeBuffer(&data)
            guard frame.fin else {
                fragments = message
                return .none
            }
            return complete(message, binary: fragmentsAreBinary)
        case .text, .binary:
            guard !closing else { return .none }
            guard fragments == nil else { return fail(1002, "a new message inside a fragmented one") }
            guard frame.length <= maxMessageBytes else { return tooLarge() }
            let data = frame.unmaskedData
            guard frame.fin else {
                fragments = data
                fragmentsAreBinary = frame.opcode == .binary
                return .none
            }
            return complete(data, binary: frame.opcode == .binary)
        case .ping:
            guard frame.fin else { return fail(1002, "fragmented ping") }
            return closing ? .none : .pong(frame.unmaskedData)
        case .pong:
            guard frame.fin else { return fail(1002, "fragmented pong") }
            return .pongReceived
        case .connectionClose:
            return close(frame.unmaskedData)
        default:
            return fail(1002, "unknown opcode")
        }
    }

    private mutating func complete(_ message: ByteBuffer, binary: Bool) -> Action {
        guard binary || Self.isValidUTF8(message) else {
            return fail(1007, "")
        }
        return .message(message, binary: binary)
    }

    private mutating func tooLarge() -> Action {
        fail(1009, "")
    }

    private mutating func fail(_ code: UInt16, _ reason: String) -> Action {
        startClosing()
        return .fail(code: code, reason: reason)
    }

    /// A close frame's body is empty, or a code RFC 6455 §7.4 lets an endpoint send followed by a
    /// UTF-8 reason.
    private mutating func close(_ body: ByteBuffer) -> Action {
        var body = body
        startClosing()
        guard body.readableBytes > 0 else { return .answerClose(code: nil) }
        guard let code = body.readInteger(as: UInt16.self) else { return .fail(code: 1002, reason: "malformed close frame") }
        guard Self.isSendable(code) else { return .fail(code: 1002, reason: "invalid close code") }
        guard Self.isValidUTF8(body) else { return .fail(code: 1007, reason: "") }
        return .answerClose(code: code)
    }

    /// Codes an endpoint may put in a close frame: the defined ones except those reserved for
    /// reporting (1004–1006, 1015), and the ranges for libraries (3000–3999) and applications
    /// (4000–4999).
    static func isSendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: true
        default: false
        }
    }

    /// Whether the bytes are UTF-8 as RFC 3629 has it (no overlong forms, surrogates or code
    /// points past U+10FFFF), checked in place by the standard library's `UTF8Span`: every chat
    /// message passes here, and building a `String` only to learn that would allocate for each.
    static func isValidUTF8(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { raw in
            let span = Span(_unsafeElements: raw.assumingMemoryBound(to: UInt8.self))
            return (try? UTF8Span(validating: span)) != nil
        }
    }
}

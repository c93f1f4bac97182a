import NIOCore
import NIOWebSocket
import Testing
@testable import ChatHTTP

/// The inbound rules of RFC 6455 and PROTOCOL.md §3 as ``WebSocketReader`` applies them, frame by
/// frame, without a socket.
@Suite("WebSocket reader")
struct WebSocketReaderTests {
    static func frame(_ opcode: WebSocketOpcode, _ text: String = "", fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        frame(opcode, ByteBuffer(string: text), fin: fin, masked: masked)
    }

    static func frame(_ opcode: WebSocketOpcode, _ bytes: ByteBuffer, fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        var data = bytes
        let key: WebSocketMaskingKey? = masked ? WebSocketMaskingKey([1, 2, 3, 4]) : nil
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: data)
    }

    static func close(_ code: UInt16, _ reason: String = "") -> WebSocketFrame {
        var body = ByteBuffer()
        body.writeInteger(code)
        body.writeString(reason)
        return frame(.connectionClose, body)
    }

    @Test func aTextFrameIsOneMessageUnmasked() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.text, "hello")) == .message(ByteBuffer(string: "hello"), binary: false))
    }

    @Test func fragmentsAreJoinedAroundControlFrames() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.text, "he", fin: false)) == .none)
        #expect(reader.receive(Self.frame(.ping, "p")) == .pong(ByteBuffer(string: "p")))
        #expect(reader.receive(Self.frame(.continuation, "ll", fin: false)) == .none)
        #expect(reader.receive(Self.frame(.continuation, "o")) == .message(ByteBuffer(string: "hello"), binary: false))
    }

    @Test func aMessageOverTheLimitIs1009WhetherInOneFrameOrMany() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.text, String(repeating: "x", count: 17))) == .fail(code: 1009, reason: ""))
        var split = WebSocketReader(maxMessageBytes: 16)
        #expect(split.receive(Self.frame(.text, String(repeating: "x", count: 10), fin: false)) == .none)
        #expect(split.receive(Self.frame(.continuation, String(repeating: "x", count: 7))) == .fail(code: 1009, reason: ""))
        var exact = WebSocketReader(maxMessageBytes: 16)
        #expect(exact.receive(Self.frame(.text, String(repeating: "x", count: 16))) == .message(ByteBuffer(string: String(repeating: "x", count: 16)), binary: false))
    }

    @Test func invalidUTF8Is1007() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.text, ByteBuffer(bytes: [0x68, 0xC3]))) == .fail(code: 1007, reason: ""))
        var split = WebSocketReader(maxMessageBytes: 16)
        // a code point cut between fragments is fine: only the whole message must be UTF-8
        #expect(split.receive(Self.frame(.text, ByteBuffer(bytes: [0x63, 0xC3]), fin: false)) == .none)
        #expect(split.receive(Self.frame(.continuation, ByteBuffer(bytes: [0xA9]))) == .message(ByteBuffer(string: "c\u{E9}"), binary: false))
    }

    @Test func binaryIsReassembledAndNotCheckedAsUTF8() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.binary, ByteBuffer(bytes: [0xFF]), fin: false)) == .none)
        #expect(reader.receive(Self.frame(.continuation, ByteBuffer(bytes: [0xC3]))) == .message(ByteBuffer(bytes: [0xFF, 0xC3]), binary: true))
        #expect(reader.receive(Self.frame(.binary, String(repeating: "x", count: 17))) == .fail(code: 1009, reason: ""))
    }

    @Test func protocolViolationsAre1002() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.continuation, "x")) == .fail(code: 1002, reason: "continuation without a message to continue"))
        var nested = WebSocketReader(maxMessageBytes: 16)
        _ = nested.receive(Self.frame(.text, "a", fin: false))
        #expect(nested.receive(Self.frame(.text, "b")) == .fail(code: 1002, reason: "a new message inside a fragmented one"))
        var reserved = WebSocketReader(maxMessageBytes: 16)
        var rsv = Self.frame(.text, "a")
        rsv.rsv1 = true
        #expect(reserved.receive(rsv) == .fail(code: 1002, reason: "reserved bits set"))
        var unknown = WebSocketReader(maxMessageBytes: 16)
        #expect(unknown.receive(Self.frame(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!, "a")) == .fail(code: 1002, reason: "unknown opcode"))
    }

    @Test func pongsAreNoted() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        #expect(reader.receive(Self.frame(.pong)) == .pongReceived)
    }

    @Test func aCloseIsAnsweredWithItsCode() {
        var plain = WebSocketReader(maxMessageBytes: 16)
        #expect(plain.receive(Self.frame(.connectionClose)) == .answerClose(code: nil))
        var coded = WebSocketReader(maxMessageBytes: 16)
        #expect(coded.receive(Self.close(1000, "bye")) == .answerClose(code: 1000))
        var library = WebSocketReader(maxMessageBytes: 16)
        #expect(library.receive(Self.close(4000)) == .answerClose(code: 4000))
        #expect(library.closing)
    }

    @Test func aMalformedCloseIs1002Or1007() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 5000] {
            var reader = WebSocketReader(maxMessageBytes: 16)
            #expect(reader.receive(Self.close(code)) == .fail(code: 1002, reason: "invalid close code"), "code \(code)")
        }
        var short = WebSocketReader(maxMessageBytes: 16)
        #expect(short.receive(Self.frame(.connectionClose, ByteBuffer(bytes: [0x03]))) == .fail(code: 1002, reason: "malformed close frame"))
        var badReason = WebSocketReader(maxMessageBytes: 16)
        #expect(badReason.receive(Self.frame(.connectionClose, ByteBuffer(bytes: [0x03, 0xE8, 0xFF]))) == .fail(code: 1007, reason: ""))
    }

    @Test func afterTheServersCloseDataIsIgnoredButTheAnswerIsSeen() {
        var reader = WebSocketReader(maxMessageBytes: 16)
        reader.startClosing()
        #expect(reader.receive(Self.frame(.text, "late")) == .none)
        #expect(reader.receive(Self.frame(.ping, "p")) == .none)
        #expect(reader.receive(Self.close(1000)) == .answerClose(code: 1000))
    }

    /// The in-place check agrees with the standard library's on every kind of sequence.
    @Test func utf8CheckAgreesWithTheStandardLibrary() {
        var samples: [[UInt8]] = [
            [], Array("plain".utf8), Array("caf\u{E9} \u{4E2D} \u{1F600}".utf8),
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF5, 0x80, 0x80, 0x80],
            [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0x80], [0xBF], [0xFE], [0xFF], [0xC3, 0x28], [0xE2, 0x28, 0xA1],
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            samples.append((0..<Int.random(in: 1...6, using: &generator)).map { _ in
                [UInt8.random(in: 0x80...0xFF, using: &generator), UInt8.random(in: 0...0x7F, using: &generator), 0xE0, 0xED, 0xF0, 0xF4][Int.random(in: 0...5, using: &generator)]
            })
        }
        for sample in samples {
            let expected = String(validating: sample, as: UTF8.self) != nil
            #expect(WebSocketReader.isValidUTF8(ByteBuffer(bytes: sample)) == expected, "\(sample.map { String($0, radix: 16) })")
        }
    }
}

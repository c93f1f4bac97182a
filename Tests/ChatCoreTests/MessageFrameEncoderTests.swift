import Foundation
import NIOCore
import Shared
import Testing
@testable import ChatCore

/// The `message` frames written straight into bytes are the frames `JSONEncoder` makes of the
/// same message: both decode to the same ``ServerFrame``.
@Suite("Message frame encoder")
struct MessageFrameEncoderTests {
    static let bodies = [
        "hello", "", "quote \" backslash \\ slash / </script>", "line\nbreak\r\ttab\u{08}\u{0C}", "nul \u{00} unit \u{1F} del \u{7F}",
        "caf\u{E9} \u{4E2D} \u{1F600} e\u{301}", "\u{2028}\u{2029}", String(repeating: "x", count: 4000),
    ]

    static func decode(_ frame: WireFrame) throws -> ServerFrame {
        try JSONDecoder().decode(ServerFrame.self, from: Data(frame.payload.readableBytesView))
    }

    @Test(arguments: bodies)
    func sameFrameAsJSONEncoder(body: String) throws {
        let alice = Account(id: 1, name: "alice"), bob = Account(id: 2, name: "Bob.2")
        for recipient in [nil, bob] {
            for clientID: String? in [nil, "c-1", "q\"\\\n"] {
                // 2026-12-08T01:02:03.004Z, and a millisecond count with a leading zero
                for millis: Int64 in [1_796_691_723_004, 1_796_691_723_040, 0] {
                    let message = StoredMessage(id: 42, sender: alice, recipient: recipient, body: body, createdAtMillis: millis, clientID: clientID)
                    let (plain, own) = MessageFrameEncoder.frames(for: message)
                    #expect(try Self.decode(plain) == Self.decode(FrameEncoder.encode(.message(message.wire()))))
                    #expect(try Self.decode(own) == Self.decode(FrameEncoder.encode(.message(message.wire(clientID: clientID)))))
                    if clientID == nil { #expect(own == plain) }
                }
            }
        }
    }

    /// The `ts` of every frame: RFC 3339 UTC with milliseconds, zero-padded.
    @Test func timestampsAreRFC3339WithMilliseconds() {
        let expected: [Int64: String] = [
            0: "1970-01-01T00:00:00.000Z", 999: "1970-01-01T00:00:00.999Z",
            1_796_691_723_004: "2026-12-08T01:02:03.004Z", 4_102_444_799_999: "2099-12-31T23:59:59.999Z",
        ]
        for (millis, text) in expected {
            #expect(Timestamp.rfc3339(millis: millis) == text)
        }
    }
}

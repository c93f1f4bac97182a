import NIOCore
import Shared

/// `message` frames written straight into bytes, without `JSONEncoder`: they are the frames the
/// hub makes most of, one per committed message. The sender's own copy differs only by its
/// `client_id` at the end, so both copies are written from one encoding of the rest.
///
/// The JSON is the same object ``FrameEncoder`` makes from ``ServerFrame/message(_:)``
/// (`MessageFrameEncoderTests` decodes both and compares).
package enum MessageFrameEncoder {
    /// The frame everybody gets, and the one for the sender's own sessions: the same frame when
    /// the message has no `client_id`.
    package static func frames(for message: StoredMessage) -> (plain: WireFrame, own: WireFrame) {
        var body = ByteBuffer()
        body.reserveCapacity(96 + message.body.utf8.count + message.sender.name.utf8.count)
        body.writeStaticString(#"{"type":"message","id":"#)
        body.writeString(String(message.id))
        body.writeStaticString(#","from":"#)
        writeString(message.sender.name, into: &body)
        body.writeStaticString(#","to":"#)
        if let recipient = message.recipient {
            writeString(recipient.name, into: &body)
        } else {
            body.writeStaticString("null")
        }
        body.writeStaticString(#","message":"#)
        writeString(message.body, into: &body)
        body.writeStaticString(message.recipient == nil ? #","is_direct":false,"ts":""# : #","is_direct":true,"ts":""#)
        body.writeString(Timestamp.rfc3339(millis: message.createdAtMillis))
        body.writeStaticString("\"")
        guard let clientID = message.clientID else {
            body.writeStaticString("}")
            let frame = WireFrame(text: body)
            return (frame, frame)
        }
        var own = body
        body.writeStaticString("}")
        own.writeStaticString(#","client_id":"#)
        writeString(clientID, into: &own)
        own.writeStaticString("}")
        return (WireFrame(text: body), WireFrame(text: own))
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else (`/`
    /// and all non-ASCII included) as its UTF-8 bytes, as ``FrameEncoder`` writes them.
    static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if index > start { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index])) }
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
                case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
                case 0x0A: buffer.writeStaticString(#"\n"#)
                case 0x0D: buffer.writeStaticString(#"\r"#)
                case 0x09: buffer.writeStaticString(#"\t"#)
                case 0x08: buffer.writeStaticString(#"\b"#)
                case 0x0C: buffer.writeStaticString(#"\f"#)
                default:
                    buffer.writeStaticString(#"\u00"#)
                    buffer.writeInteger(hexDigit(byte >> 4))
                    buffer.writeInteger(hexDigit(byte & 0x0F))
                }
            }
            if bytes.count > start { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...])) }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

import NIOCore

/// A server frame exactly as it goes on the wire: an unmasked, final WebSocket text frame
/// (RFC 6455 §5.2 header, then the JSON). Server frames are never masked, so the bytes are the
/// same for every recipient: a broadcast is framed once and the same buffer is written to every
/// socket, without a per-session header or copy.
package struct WireFrame: Sendable, Equatable {
    package let bytes: ByteBuffer

    package init(text json: ByteBuffer) {
        self.init(opcode: 0x1, payload: json)
    }

    /// A final, unmasked frame of any opcode (RFC 6455 §5.2: 0x1 text, 0x2 binary, 0x8 close,
    /// 0x9 ping, 0xA pong); control frames must keep their payload within 125 bytes.
    package init(opcode: UInt8, payload json: ByteBuffer) {
        let length = json.readableBytes
        var bytes = ByteBufferAllocator().buffer(capacity: length + 10)
        bytes.writeInteger(0x80 | opcode)
        switch length {
        case 0...125:
            bytes.writeInteger(UInt8(length))
        case 126...0xFFFF:
            bytes.writeInteger(UInt8(126))
            bytes.writeInteger(UInt16(length))
        default:
            bytes.writeInteger(UInt8(127))
            bytes.writeInteger(UInt64(length))
        }
        bytes.writeImmutableBuffer(json)
        self.bytes = bytes
    }

    /// The JSON inside.
    package var payload: ByteBuffer { Self.payload(of: bytes) }

    /// The JSON inside the wire bytes of a frame made by ``init(text:)``.
    package static func payload(of bytes: ByteBuffer) -> ByteBuffer {
        let header = switch bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self) ?? 0 {
        case 126: 4
        case 127: 10
        default: 2
        }
        return bytes.getSlice(at: bytes.readerIndex + header, length: bytes.readableBytes - header) ?? ByteBuffer()
    }
}

import Foundation
import NIOCore
import NIOFoundationCompat
import Shared

/// Turns server frames into wire frames. A broadcast is encoded and framed once and the same
/// buffer handed to every session (`ByteBuffer` is copy-on-write, so that is free).
package enum FrameEncoder {
    package static func encode(_ frame: ServerFrame) -> WireFrame {
        WireFrame(text: json(frame))
    }

    package static func error(_ error: ProtocolError, clientID: String? = nil) -> WireFrame {
        encode(.error(code: error.code, message: error.message, clientID: clientID))
    }

    /// A `welcome` whose `users` array is already encoded (``UserListEncoder``): `welcome` is
    /// encoded with an empty list and `users` put in its place. Only the key can read `"users":[]`
    /// unescaped: quotes inside JSON strings are escaped.
    package static func welcome(_ welcome: ServerFrame.Welcome, users: ByteBuffer) -> WireFrame {
        let base = json(.welcome(welcome))
        let marker = Array(#""users":[]"#.utf8)
        guard let range = base.readableBytesView.firstRange(of: marker) else {
            preconditionFailure("welcome encoded without its users key")
        }
        let start = range.lowerBound - base.readableBytesView.startIndex
        var spliced = ByteBufferAllocator().buffer(capacity: base.readableBytes + users.readableBytes)
        spliced.writeImmutableBuffer(base.getSlice(at: base.readerIndex, length: start + marker.count - 2)!)
        spliced.writeImmutableBuffer(users)
        let rest = start + marker.count
        spliced.writeImmutableBuffer(base.getSlice(at: base.readerIndex + rest, length: base.readableBytes - rest)!)
        return WireFrame(text: spliced)
    }

    package static func json(_ frame: ServerFrame) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return ByteBuffer(data: try encoder.encode(frame))
        } catch {
            // Every field is a string, number, bool or array of those: encoding cannot fail.
            preconditionFailure("server frame failed to encode: \(error)")
        }
    }
}

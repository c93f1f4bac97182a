import Foundation
import NIOCore
import Shared

/// Turns server frames into wire frames. A broadcast is encoded and framed once and the same
/// buffer handed to every session (`ByteBuffer` is copy-on-write, so that is free).
enum FrameEncoder {
    static func encode(_ frame: ServerFrame) -> WireFrame {
        WireFrame(text: json(frame))
    }

    static func error(_ error: ProtocolError, clientID: String? = nil) -> WireFrame {
        encode(.error(code: error.code, message: error.message, clientID: clientID))
    }

    static func json(_ frame: ServerFrame) -> ByteBuffer {
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

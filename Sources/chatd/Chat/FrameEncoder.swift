import Foundation
import NIOCore
import Shared

/// Turns server frames into the bytes of a WebSocket text frame. A broadcast is encoded once and
/// the same buffer handed to every session (`ByteBuffer` is copy-on-write, so that is free).
enum FrameEncoder {
    static func encode(_ frame: ServerFrame) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return ByteBuffer(data: try encoder.encode(frame))
        } catch {
            // Every field is a string, number, bool or array of those: encoding cannot fail.
            preconditionFailure("server frame failed to encode: \(error)")
        }
    }

    static func error(_ error: ProtocolError, clientID: String? = nil) -> ByteBuffer {
        encode(.error(code: error.code, message: error.message, clientID: clientID))
    }
}

import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import Shared

/// One WebSocket session with chatd (PROTOCOL.md §2): frames in as ``ServerFrame``s, out as
/// ``ClientFrame``s, each encoded once.
enum ChatSocket {
    /// The largest frame the server sends is a `history` answer (under 1 MiB).
    static let maxFrameSize = 2 << 20

    /// What the session's handler gets to send with.
    struct Sender: Sendable {
        fileprivate let writer: WebSocketOutboundWriter

        func send(_ frame: ClientFrame) async throws {
            let json = try JSONEncoder().encode(frame)
            try await writer.write(.text(String(decoding: json, as: UTF8.self)))
        }
    }

    /// The server's frames, read one at a time as they are asked for: nothing queues up on our side.
    struct Frames {
        fileprivate var messages: WebSocketInboundMessageStream.AsyncIterator

        /// The next frame, or `nil` once the server closed the session.
        mutating func next() async throws -> ServerFrame? {
            while let message = try await messages.next() {
                guard case .text(let text) = message else { continue }
                return try JSONDecoder().decode(ServerFrame.self, from: Data(text.utf8))
            }
            return nil
        }
    }

    /// Connects and runs `handler` with the frames and a sender; returns when the handler returns
    /// or the server closes the connection.
    static func run(endpoint: ServerEndpoint, token: String, tlsConfiguration: TLSConfiguration?, logger: Logger,
                    handler: @escaping @Sendable (_ frames: inout Frames, _ sender: Sender) async throws -> Void) async throws {
        var configuration = WebSocketClientConfiguration(maxFrameSize: maxFrameSize)
        configuration.autoPing = .disabled
        try await WebSocketClient.connect(url: endpoint.webSocketURL(token: token), configuration: configuration,
                                          tlsConfiguration: tlsConfiguration, logger: logger) {
            inbound, outbound, _ in
            var frames = Frames(messages: inbound.messages(maxSize: maxFrameSize).makeAsyncIterator())
            try await handler(&frames, Sender(writer: outbound))
        }
    }
}

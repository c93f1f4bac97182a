import Foundation
import Logging
import NIOSSL
import Shared
import Synchronization

/// The client's WebSocket session over its whole life: connects when the model asks, reports
/// frames and disconnections to the inbox, and sends the model's frames in order through one
/// queue, so two messages typed quickly arrive in the order they were typed.
final class ChatConnection: Sendable {
    private let endpoint: ServerEndpoint
    private let tlsConfiguration: TLSConfiguration?
    private let token: String
    private let inbox: EventInbox
    private let outbound = Mutex<AsyncStream<ClientFrame>.Continuation?>(nil)

    init(endpoint: ServerEndpoint, tlsConfiguration: TLSConfiguration?, token: String, inbox: EventInbox) {
        self.endpoint = endpoint
        self.tlsConfiguration = tlsConfiguration
        self.token = token
        self.inbox = inbox
    }

    /// Opens the session in the background; ends with `.disconnected` in the inbox.
    func connect() {
        Task { await run() }
    }

    /// Queues a frame; dropped if no session is open (the model sends only while online).
    func send(_ frame: ClientFrame) {
        _ = outbound.withLock { $0?.yield(frame) }
    }

    private func run() async {
        let refused = LockedValue<String?>(nil)
        let opened = LockedValue(false)
        var reason = "connection closed"
        do {
            try await ChatSocket.run(endpoint: endpoint, token: token, tlsConfiguration: tlsConfiguration, logger: quietLogger) { frames, sender in
                let (queue, continuation) = AsyncStream.makeStream(of: ClientFrame.self, bufferingPolicy: .bufferingOldest(256))
                self.outbound.withLock { $0 = continuation }
                defer {
                    self.outbound.withLock { $0 = nil }
                    continuation.finish()
                }
                opened.value = true
                self.inbox.post(.connected)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in queue { try await sender.send(frame) }
                    }
                    while let frame = try await frames.next() {
                        if case .error(.unauthorized, let message, _) = frame {
                            refused.value = message
                        }
                        self.inbox.post(.frame(frame))
                    }
                    group.cancelAll()
                }
            }
        } catch {
            reason = opened.value ? "connection lost" : "server unreachable"
        }
        if let message = refused.value {
            inbox.post(.disconnected(reason: "login no longer valid (\(message)); restart chat-tui to log in", willRetry: false))
        } else {
            inbox.post(.disconnected(reason: reason, willRetry: true))
        }
    }
}

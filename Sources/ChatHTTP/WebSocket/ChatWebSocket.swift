import ChatCore
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Shared

/// The WebSocket door of the chat (`GET /ws`): authenticates the upgrade, then moves frames
/// between the socket and ``ChatService``. One reader loop handles the client's frames in order;
/// a ``SessionWriter`` on the socket's event loop drains the session's ``OutboundQueue``.
package struct ChatWebSocket: Sendable {
    package let accounts: Accounts
    package let chat: ChatService

    /// The WebSocket settings PROTOCOL.md fixes: 64 KiB frames and messages, UTF-8 validated,
    /// pings at the configured interval (a missed pong closes the session).
    package static func configuration(pingInterval: Int) -> WebSocketServerConfiguration {
        WebSocketServerConfiguration(
            maxFrameSize: ProtocolLimits.maxInboundMessageBytes,
            autoPing: .enabled(timePeriod: .seconds(pingInterval)),
            closeTimeout: .seconds(5),
            validateUTF8: true)
    }

    /// Decides an upgrade request.
    ///
    /// The WebSocket library can only accept an upgrade or pass the request on to the HTTP
    /// router, which answers a `Upgrade: websocket` request with a redirect to itself; it cannot
    /// answer 401. So a request without valid credentials, or with a cookie from a foreign
    /// origin, is upgraded and then immediately sent an `error` frame (`unauthorized`) and closed
    /// with 1008: the client learns why, and no chat data ever reaches it.
    package func shouldUpgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let (path, query) = Self.split(head.path ?? "")
        guard path == "/ws" else { return .dontUpgrade }
        let verdict = await authenticate(head, query: query)
        return .upgrade([:]) { inbound, outbound, context in
            switch verdict {
            case .success(let identity):
                try await serve(identity, channel: channel, inbound: inbound, outbound: outbound, logger: context.logger)
            case .failure(let refusal):
                try await outbound.write(.custom(Self.textFrame(FrameEncoder.error(refusal).payload)))
                try await outbound.close(.policyViolation, reason: "unauthorized")
                for try await _ in inbound {}
            }
        }
    }

    /// Who is upgrading, or why they may not: a missing or bad token, or a cookie sent from a
    /// foreign page (cross-site WebSocket hijacking).
    private func authenticate(_ head: HTTPRequest, query: String?) async -> Result<Accounts.Identity, ProtocolError> {
        guard let presented = PresentedToken.find(in: head.headerFields, query: query, allowQuery: true) else {
            return .failure(ProtocolError(.unauthorized, "authentication required: pass ?token=, a bearer token or the session cookie"))
        }
        guard let identity = try? await accounts.authenticate(token: presented.token) else {
            return .failure(ProtocolError(.unauthorized, "the token is invalid, expired or logged out"))
        }
        if presented.source == .cookie, OriginPolicy.check(head.headerFields, authority: head.authority) != .sameOrigin {
            return .failure(ProtocolError(.unauthorized, "cross-site WebSocket refused: a cookie login needs this server's Origin"))
        }
        return .success(identity)
    }

    private func serve(_ identity: Accounts.Identity, channel: any Channel, inbound: WebSocketInboundStream,
                       outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        let session = ChatSession(identity: identity, queueLimit: chat.limits.outboundQueueBytes, logger: logger) { delay in
            channel.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
        }
        let writer = try await open(session, channel: channel)
        defer { chat.close(session) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                if let reason = await writer.closeRequested() {
                    if reason == .slowConsumer { chat.metrics.slowConsumerCloses.increment() }
                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(reason.code)), reason: reason.reason)
                }
            }
            var refusing = false
            var readError: (any Error)?
            do {
                for try await message in inbound.messages(maxSize: ProtocolLimits.maxInboundMessageBytes) where !refusing {
                    switch message {
                    case .text(let text):
                        await chat.handle(text: text, from: session)
                    case .binary:
                        refusing = true
                        session.close(.binaryRefused)
                    }
                }
            } catch {
                // A protocol violation (invalid UTF-8, a message over the limit): the library closes
                // with the matching code (1007, 1009) when the handler rethrows it.
                readError = error
            }
            session.queue.finish()
            writer.stop()
            // A close handshake stuck on a client that stopped reading must not keep this task alive.
            channel.eventLoop.scheduleTask(in: .seconds(ChatSession.abortGraceSeconds)) { channel.close(promise: nil) }
            try await group.waitForAll()
            if let readError { throw readError }
        }
    }

    /// Opens the session and sends its welcome. A function of its own so that the welcome (tens of
    /// kilobytes with a large team) is released once written, not kept for the session's lifetime
    /// in the caller's async frame.
    private func open(_ session: ChatSession, channel: any Channel) async throws -> SessionWriter {
        let welcome = try await chat.open(session)
        do {
            let writer = try await SessionWriter.make(channel: channel, queue: session.queue, skippingMessagesUpTo: welcome.lastID,
                                                      framesOut: chat.metrics.framesOut)
            try await writer.write(welcome.frame)
            session.attach(writer)
            return writer
        } catch {
            chat.close(session)
            throw error
        }
    }

    package static func textFrame(_ bytes: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: bytes)
    }

    package static func split(_ target: String) -> (path: String, query: String?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    package init(accounts: Accounts, chat: ChatService) {
        self.accounts = accounts
        self.chat = chat
    }
}

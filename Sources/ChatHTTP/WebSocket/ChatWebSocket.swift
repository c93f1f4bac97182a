import ChatCore
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Shared

/// The WebSocket door of the chat (`GET /ws`): decides an upgrade, then hands the upgraded
/// connection to a ``ChatChannelHandler`` that moves frames between the socket and
/// ``ChatService`` on the socket's event loop.
package struct ChatWebSocket: WebSocketDoor {
    package let accounts: Accounts
    package let chat: ChatService
    /// `--ping-interval`: the server pings each session this often and closes one that did not
    /// answer the previous ping.
    package let pingInterval: Int
    /// One ping timer per event loop, shared by the sessions on it.
    let pings: PingWheels
    /// How often a session's socket may be written to, from the whole server's load.
    let pacer = WritePacer()

    /// Who is upgrading, or why they may not.
    package typealias Verdict = Result<Accounts.Identity, ProtocolError>

    /// Frames and messages over 64 KiB are refused with 1009 (PROTOCOL.md §3).
    package static let maxFrameSize = ProtocolLimits.maxInboundMessageBytes
    private var maxFrameSize: Int { Self.maxFrameSize }

    /// How long a close handshake the server started may take before the connection is cut.
    package static let closeTimeout = TimeAmount.seconds(5)

    package init(accounts: Accounts, chat: ChatService, pingInterval: Int) {
        self.accounts = accounts
        self.chat = chat
        self.pingInterval = pingInterval
        self.pings = PingWheels(interval: max(1, pingInterval))
    }

    package func accepts(_ target: String) -> Bool {
        Self.split(target).path == "/ws"
    }

    /// Decides an upgrade of `GET /ws`.
    ///
    /// A WebSocket upgrade cannot be answered 401 in a way browsers show, so a request without
    /// valid credentials, or with a cookie from a foreign origin, is upgraded and then at once
    /// sent an `error` frame (`unauthorized`) and closed with 1008: the client learns why, and
    /// no chat data ever reaches it.
    package func decide(_ head: HTTPRequestHead) async -> Verdict {
        guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
            return .failure(ProtocolError(.unauthorized, "authentication required: pass ?token=, a bearer token or the session cookie"))
        }
        return await authenticate(request, query: Self.split(head.uri).query)
    }

    /// Who is upgrading, or why they may not: a missing or bad token, or a cookie sent from a
    /// foreign page (cross-site WebSocket hijacking).
    private func authenticate(_ head: HTTPRequest, query: String?) async -> Verdict {
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

    package func connection(for verdict: Verdict, channel: any Channel, logger: Logger) -> any ChannelHandler {
        let endpoint = ChatEndpoint(verdict: verdict, chat: chat, pacer: pacer, eventLoop: channel.eventLoop, logger: logger)
        return WebSocketConnection(endpoint: endpoint, eventLoop: channel.eventLoop, maxMessageBytes: maxFrameSize,
                                   pings: pings.wheel(for: channel.eventLoop), closeTimeout: Self.closeTimeout, logger: logger)
    }

    package static func split(_ target: String) -> (path: String, query: String?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }
}

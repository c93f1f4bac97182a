/// The numeric limits of wire protocol version 1 (PROTOCOL.md), in one place so that the server's
/// checks, the clients' counters and the tests that hit each limit agree by construction.
public enum ProtocolLimits {
    /// Largest WebSocket frame or reassembled message the server accepts; larger closes with 1009.
    public static let maxInboundMessageBytes = 64 * 1024
    /// Default longest message text, in Unicode scalars after trimming (`--message-chars`).
    public static let defaultMessageChars = 4000
    /// Longest `client_id`, in characters.
    public static let maxClientIDLength = 64
    /// Bounds of the `limit` field of a `history` request.
    public static let historyLimitRange = 1...200
    /// `limit` used when a `history` request does not give one.
    public static let defaultHistoryLimit = 50
    /// Default bound of one session's outbound queue, in bytes; passing it closes with 1008.
    public static let defaultOutboundQueueBytes = 1024 * 1024
    /// Largest `history` answer frame the server builds. A client that asks for 200 messages of
    /// 4000 four-byte characters would otherwise get a 3 MB frame that most WebSocket clients
    /// refuse (Python's `websockets` stops at 1 MiB); the server returns fewer messages with
    /// `has_more: true` instead, and the client asks again.
    public static let maxHistoryFrameBytes = 960 * 1024
}

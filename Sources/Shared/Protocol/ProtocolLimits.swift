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

    /// The `limit` of a `history` request (WebSocket frame or HTTP query), or the refusal that
    /// both doors send: absent means ``defaultHistoryLimit``.
    public static func historyLimit(_ requested: Int64?) -> Result<Int, ProtocolError> {
        guard let requested else { return .success(defaultHistoryLimit) }
        guard historyLimitRange.contains(Int(clamping: requested)) else {
            return .failure(ProtocolError(.badRequest,
                "'limit' must be between \(historyLimitRange.lowerBound) and \(historyLimitRange.upperBound)"))
        }
        return .success(Int(requested))
    }

    /// The `before` of a `history` request: a message id, so positive.
    public static func historyBefore(_ requested: Int64?) -> Result<Int64?, ProtocolError> {
        guard let requested else { return .success(nil) }
        guard requested >= 1 else { return .failure(ProtocolError(.badRequest, "'before' must be a positive message id")) }
        return .success(requested)
    }
    /// Default bound of one session's outbound queue, in bytes; passing it closes with 1008.
    public static let defaultOutboundQueueBytes = 1024 * 1024
    /// Largest `history` answer frame the server builds. A client that asks for 200 messages of
    /// 4000 four-byte characters would otherwise get a 3 MB frame that most WebSocket clients
    /// refuse (Python's `websockets` stops at 1 MiB); the server returns fewer messages with
    /// `has_more: true` instead, and the client asks again.
    public static let maxHistoryFrameBytes = 960 * 1024
}

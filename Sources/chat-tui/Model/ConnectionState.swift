/// Where the WebSocket connection stands, as the status line shows it.
enum ConnectionState: Equatable, Sendable {
    /// A connection attempt is running; `attempt` counts from 1 since the last successful session.
    case connecting(attempt: Int)
    case online
    /// Waiting before the next attempt; `.tick` counts `secondsLeft` down to the next `.connect`.
    case reconnecting(attempt: Int, secondsLeft: Int, reason: String)
    /// Not retrying: the server refused us for good (the token was revoked, for instance).
    case offline(reason: String)

    var isOnline: Bool { self == .online }

    /// The status line's words for it.
    var label: String {
        switch self {
        case .connecting(let attempt):
            attempt > 1 ? "connecting (attempt \(attempt))…" : "connecting…"
        case .online:
            "online"
        case .reconnecting(let attempt, let secondsLeft, let reason):
            "\(reason); reconnecting in \(secondsLeft) s (attempt \(attempt))"
        case .offline(let reason):
            "offline: \(reason)"
        }
    }
}

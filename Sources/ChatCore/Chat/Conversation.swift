import Shared

/// A chat resolved to accounts: the broadcast channel, or a direct conversation between two.
/// Stored as an ordered pair of account ids so that both directions share one index range.
package enum Conversation: Sendable, Hashable {
    case broadcast
    case direct(me: Account, other: Account)

    /// `(conv_lo, conv_hi)` in the messages table.
    package var pair: (Int64, Int64) {
        switch self {
        case .broadcast: (0, 0)
        case .direct(let me, let other): Self.pair(me.id, other.id)
        }
    }

    /// The stored key of a conversation: `(0, 0)` for broadcast, else the two account ids, lower
    /// first, so that both directions are one conversation.
    package static func pair(_ sender: Int64, _ recipient: Int64?) -> (Int64, Int64) {
        guard let recipient else { return (0, 0) }
        return (min(sender, recipient), max(sender, recipient))
    }

    /// The id of the chat in the read-marker table: 0 for broadcast, else the other account's id.
    package var markerChatID: Int64 {
        switch self {
        case .broadcast: 0
        case .direct(_, let other): other.id
        }
    }

    /// The chat's name as the asking user sees it on the wire.
    package var wireName: String {
        switch self {
        case .broadcast: ChatRef.broadcastName
        case .direct(_, let other): other.name
        }
    }
}

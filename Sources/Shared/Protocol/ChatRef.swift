/// Which conversation a `history` or `read` frame is about: the broadcast channel, or the direct
/// conversation with one other user, named as on the wire (`"broadcast"` or the other user's name).
public enum ChatRef: Hashable, Sendable {
    case broadcast
    case direct(String)

    /// The wire spelling of the broadcast channel.
    public static let broadcastName = "broadcast"

    /// Reads the wire form. The broadcast name is matched case-insensitively, like user names.
    public init(wire: String) {
        if wire.lowercased() == Self.broadcastName {
            self = .broadcast
        } else {
            self = .direct(wire)
        }
    }

    public var wireName: String {
        switch self {
        case .broadcast: Self.broadcastName
        case .direct(let name): name
        }
    }
}

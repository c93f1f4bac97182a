/// The wire form of a client frame (PROTOCOL.md §2), for clients: `chat-tui`, tests, benchmarks.
/// ``ClientFrame/parse(_:maxMessageChars:)`` reads exactly what this writes.
extension ClientFrame: Encodable {
    private enum CodingKeys: String, CodingKey {
        case type, message, to, chat, before, limit
        case clientID = "client_id"
        case upTo = "up_to"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .broadcast(let message, let clientID):
            try container.encode("broadcast", forKey: .type)
            try container.encode(message, forKey: .message)
            try container.encodeIfPresent(clientID, forKey: .clientID)
        case .direct(let to, let message, let clientID):
            try container.encode("direct", forKey: .type)
            try container.encode(to, forKey: .to)
            try container.encode(message, forKey: .message)
            try container.encodeIfPresent(clientID, forKey: .clientID)
        case .users:
            try container.encode("users", forKey: .type)
        case .history(let chat, let before, let limit):
            try container.encode("history", forKey: .type)
            try container.encode(chat.wireName, forKey: .chat)
            try container.encodeIfPresent(before, forKey: .before)
            try container.encode(limit, forKey: .limit)
        case .read(let chat, let upTo):
            try container.encode("read", forKey: .type)
            try container.encode(chat.wireName, forKey: .chat)
            try container.encode(upTo, forKey: .upTo)
        case .typing(let to):
            try container.encode("typing", forKey: .type)
            try container.encode(to, forKey: .to)
        }
    }
}

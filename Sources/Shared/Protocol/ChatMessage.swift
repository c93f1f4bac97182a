/// A stored chat message as it travels in `message` frames and `history` answers.
public struct ChatMessage: Codable, Equatable, Sendable {
    public var id: Int64
    public var from: String
    /// The recipient of a direct message; `nil` (sent as JSON `null`) for the broadcast channel.
    public var to: String?
    public var message: String
    public var isDirect: Bool
    /// RFC 3339 UTC with milliseconds.
    public var ts: String
    /// Present only on the copies sent to the sender's own sessions.
    public var clientID: String?

    public init(id: Int64, from: String, to: String?, message: String, ts: String, clientID: String? = nil) {
        self.id = id
        self.from = from
        self.to = to
        self.message = message
        self.isDirect = to != nil
        self.ts = ts
        self.clientID = clientID
    }

    enum CodingKeys: String, CodingKey {
        case id, from, to, message, ts
        case isDirect = "is_direct"
        case clientID = "client_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)  // explicit null for broadcast
        try container.encode(message, forKey: .message)
        try container.encode(isDirect, forKey: .isDirect)
        try container.encode(ts, forKey: .ts)
        try container.encodeIfPresent(clientID, forKey: .clientID)
    }
}

/// One account and whether any session of it is connected.
public struct UserPresence: Codable, Equatable, Sendable {
    public var name: String
    public var online: Bool

    public init(name: String, online: Bool) {
        self.name = name
        self.online = online
    }
}

/// The limits a client should enforce before sending, announced in `welcome`.
public struct ServerLimits: Codable, Equatable, Sendable {
    public var messageChars: Int
    public var fileBytes: Int64

    public init(messageChars: Int, fileBytes: Int64) {
        self.messageChars = messageChars
        self.fileBytes = fileBytes
    }

    enum CodingKeys: String, CodingKey {
        case messageChars = "message_chars"
        case fileBytes = "file_bytes"
    }
}

/// A frame from the server on the chat WebSocket (PROTOCOL.md §2, "Server → client").
/// Codable both ways: the server encodes it, clients and tests decode it.
public enum ServerFrame: Equatable, Sendable {
    case welcome(Welcome)
    case message(ChatMessage)
    case info(Info)
    case users([UserPresence])
    case history(History)
    case read(chat: String, upTo: Int64)
    case typing(from: String)
    case file(FileEvent)
    case error(code: ErrorCode, message: String, clientID: String?)

    public struct Welcome: Equatable, Sendable {
        public var username: String
        public var users: [UserPresence]
        public var unread: [String: Int]
        public var lastID: Int64
        public var limits: ServerLimits
        public var server: String

        public init(username: String, users: [UserPresence], unread: [String: Int], lastID: Int64, limits: ServerLimits, server: String) {
            self.username = username
            self.users = users
            self.unread = unread
            self.lastID = lastID
            self.limits = limits
            self.server = server
        }
    }

    public struct Info: Equatable, Sendable {
        public enum Event: String, Codable, Sendable { case join, leave }
        public var event: Event
        public var user: String
        public var message: String

        public init(event: Event, user: String) {
            self.event = event
            self.user = user
            self.message = event == .join ? "\(user) joined" : "\(user) left"
        }
    }

    public struct History: Equatable, Sendable {
        public var chat: String
        public var messages: [ChatMessage]
        public var hasMore: Bool

        public init(chat: String, messages: [ChatMessage], hasMore: Bool) {
            self.chat = chat
            self.messages = messages
            self.hasMore = hasMore
        }
    }
}

extension ServerFrame: Codable {
    enum CodingKeys: String, CodingKey {
        case type, username, users, unread, limits, server, event, user, message, chat, messages, from, code, file, by
        case lastID = "last_id"
        case hasMore = "has_more"
        case upTo = "up_to"
        case clientID = "client_id"
        // message fields, flattened into the frame
        case id, to, ts
        case isDirect = "is_direct"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "welcome":
            self = .welcome(Welcome(
                username: try c.decode(String.self, forKey: .username),
                users: try c.decode([UserPresence].self, forKey: .users),
                unread: try c.decodeIfPresent([String: Int].self, forKey: .unread) ?? [:],
                lastID: try c.decode(Int64.self, forKey: .lastID),
                limits: try c.decode(ServerLimits.self, forKey: .limits),
                server: try c.decode(String.self, forKey: .server)))
        case "message":
            self = .message(try ChatMessage(from: decoder))
        case "info":
            var info = Info(event: try c.decode(Info.Event.self, forKey: .event), user: try c.decode(String.self, forKey: .user))
            info.message = try c.decode(String.self, forKey: .message)
            self = .info(info)
        case "users":
            self = .users(try c.decode([UserPresence].self, forKey: .users))
        case "history":
            self = .history(History(
                chat: try c.decode(String.self, forKey: .chat),
                messages: try c.decode([ChatMessage].self, forKey: .messages),
                hasMore: try c.decode(Bool.self, forKey: .hasMore)))
        case "read":
            self = .read(chat: try c.decode(String.self, forKey: .chat), upTo: try c.decode(Int64.self, forKey: .upTo))
        case "typing":
            self = .typing(from: try c.decode(String.self, forKey: .from))
        case "file":
            self = .file(FileEvent(
                event: try c.decode(FileEvent.Kind.self, forKey: .event),
                file: try c.decode(FileInfo.self, forKey: .file),
                by: try c.decode(String.self, forKey: .by)))
        case "error":
            self = .error(
                code: try c.decode(ErrorCode.self, forKey: .code),
                message: try c.decode(String.self, forKey: .message),
                clientID: try c.decodeIfPresent(String.self, forKey: .clientID))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown frame type \(type)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .welcome(let w):
            try c.encode("welcome", forKey: .type)
            try c.encode(w.username, forKey: .username)
            try c.encode(w.users, forKey: .users)
            try c.encode(w.unread, forKey: .unread)
            try c.encode(w.lastID, forKey: .lastID)
            try c.encode(w.limits, forKey: .limits)
            try c.encode(w.server, forKey: .server)
        case .message(let m):
            try c.encode("message", forKey: .type)
            try m.encode(to: encoder)
        case .info(let info):
            try c.encode("info", forKey: .type)
            try c.encode(info.event, forKey: .event)
            try c.encode(info.user, forKey: .user)
            try c.encode(info.message, forKey: .message)
        case .users(let users):
            try c.encode("users", forKey: .type)
            try c.encode(users, forKey: .users)
        case .history(let h):
            try c.encode("history", forKey: .type)
            try c.encode(h.chat, forKey: .chat)
            try c.encode(h.messages, forKey: .messages)
            try c.encode(h.hasMore, forKey: .hasMore)
        case .read(let chat, let upTo):
            try c.encode("read", forKey: .type)
            try c.encode(chat, forKey: .chat)
            try c.encode(upTo, forKey: .upTo)
        case .typing(let from):
            try c.encode("typing", forKey: .type)
            try c.encode(from, forKey: .from)
        case .file(let change):
            try c.encode("file", forKey: .type)
            try c.encode(change.event, forKey: .event)
            try c.encode(change.file, forKey: .file)
            try c.encode(change.by, forKey: .by)
        case .error(let code, let message, let clientID):
            try c.encode("error", forKey: .type)
            try c.encode(code, forKey: .code)
            try c.encode(message, forKey: .message)
            try c.encodeIfPresent(clientID, forKey: .clientID)
        }
    }
}

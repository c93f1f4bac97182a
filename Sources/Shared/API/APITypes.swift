/// Bodies of the HTTP API (PROTOCOL.md §3), shared by the server and its clients.

public struct LoginRequest: Codable, Sendable {
    public var username: String
    public var password: String
    /// `false` keeps an unknown name from becoming an account (PROTOCOL.md §7.7): clients send it
    /// unless the user asked for a new account, so a mistyped name fails instead. Absent means `true`.
    public var register: Bool?

    public init(username: String, password: String, register: Bool? = nil) {
        self.username = username
        self.password = password
        self.register = register
    }
}

public struct LoginResponse: Codable, Sendable {
    public var token: String
    public var username: String
    public var created: Bool

    public init(token: String, username: String, created: Bool) {
        self.token = token
        self.username = username
        self.created = created
    }
}

public struct MeResponse: Codable, Sendable {
    public var username: String

    public init(username: String) {
        self.username = username
    }
}

public struct UsersResponse: Codable, Sendable {
    public var users: [UserPresence]

    public init(users: [UserPresence]) {
        self.users = users
    }
}

public struct HistoryResponse: Codable, Sendable {
    public var chat: String
    public var messages: [ChatMessage]
    public var hasMore: Bool

    public init(chat: String, messages: [ChatMessage], hasMore: Bool) {
        self.chat = chat
        self.messages = messages
        self.hasMore = hasMore
    }

    enum CodingKeys: String, CodingKey {
        case chat, messages
        case hasMore = "has_more"
    }
}

/// `{"error": {"code": "...", "message": "..."}}`, the body of every HTTP error.
public struct APIErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) {
        self.error = Detail(code: code, message: message)
    }
}

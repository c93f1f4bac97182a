import Foundation
import Shared

@testable import chat_tui

/// Messages, frames and ready-made models for the model tests. The user is alice; bob, carol and
/// dave are the others (dave offline). The terminal is 100x30: the message pane is 79 columns wide
/// and 27 rows high.
enum Fixture {
    /// The wall clock of the model tests: a minute after the fixture's messages.
    static let now = Date(timeIntervalSince1970: 1_795_253_460)  // 2026-11-21T09:31:00Z

    static let users = [
        UserPresence(name: "alice", online: true),
        UserPresence(name: "bob", online: true),
        UserPresence(name: "carol", online: true),
        UserPresence(name: "dave", online: false),
    ]

    static func message(_ id: Int64, from: String = "bob", to: String? = nil, _ text: String? = nil,
                        clientID: String? = nil) -> ChatMessage {
        ChatMessage(id: id, from: from, to: to, message: text ?? "message \(id)",
                    ts: "2026-11-21T09:30:00.123Z", clientID: clientID)
    }

    /// Broadcast messages `ids`, from bob.
    static func broadcast(_ ids: ClosedRange<Int64>, from: String = "bob") -> [ChatMessage] {
        ids.map { message($0, from: from) }
    }

    static func welcome(me: String = "alice", unread: [String: Int] = [:], lastID: Int64 = 0,
                        users: [UserPresence] = Fixture.users) -> ChatEvent {
        .frame(.welcome(.init(username: me, users: users, unread: unread, lastID: lastID,
                              limits: ServerLimits(messageChars: 4000, fileBytes: 1 << 30), server: "chatd test")))
    }

    static func history(_ chat: String, _ messages: [ChatMessage], hasMore: Bool = false) -> ChatEvent {
        .frame(.history(.init(chat: chat, messages: messages, hasMore: hasMore)))
    }

    static func file(_ name: String, owner: String = "alice", size: Int64 = 10) -> FileInfo {
        FileInfo(name: name, owner: owner, size: size, uploadedAt: "2026-11-21T09:30:00.000Z", sha256: "00")
    }

    /// A model that is online as alice with the broadcast history answered.
    static func online(broadcast: [ChatMessage] = [], hasMore: Bool = false, unread: [String: Int] = [:],
                       lastID: Int64? = nil) -> ChatModel {
        var model = ChatModel(server: "http://chat.test", clientIDPrefix: "t-", jitter: { 1 }, now: { Fixture.now })
        model.clock = .twentyFourHour()
        _ = model.handle(.resize(columns: 100, rows: 30))
        _ = model.handle(.connected)
        _ = model.handle(welcome(unread: unread, lastID: lastID ?? broadcast.last?.id ?? 0))
        _ = model.handle(history("broadcast", broadcast, hasMore: hasMore))
        return model
    }
}

extension ChatModel {
    /// Handles the events in order and returns all their effects.
    mutating func feed(_ events: ChatEvent...) -> [ChatEffect] {
        events.flatMap { handle($0) }
    }

    /// Types `text` key by key.
    mutating func type(_ text: String) -> [ChatEffect] {
        text.flatMap { handle(.key(.character($0))) }
    }

    mutating func press(_ keys: Key...) -> [ChatEffect] {
        keys.flatMap { handle(.key($0)) }
    }

    func tab(_ title: String) -> ChatTab? {
        tabs.first { $0.title == title }
    }

    var tabTitles: [String] { tabs.map(\.title) }
}

extension [ChatEffect] {
    var frames: [ClientFrame] {
        compactMap { if case .send(let frame) = $0 { frame } else { nil } }
    }

    var reads: [ClientFrame] {
        frames.filter { if case .read = $0 { true } else { false } }
    }

    var historyRequests: [ClientFrame] {
        frames.filter { if case .history = $0 { true } else { false } }
    }
}

import Foundation
import NIOCore
import Shared
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


/// The chat core against a real SQLite file, without sockets.
@Suite("Chat core")
struct ChatCoreTests {
    @Test func broadcastReachesEveryoneAndClientIDOnlyTheSender() async throws {
        let core = try ChatCore()
        let alice = try await core.user("alice"), bob = try await core.user("bob")
        let (a1, _) = try await core.connect(alice)
        let (a2, _) = try await core.connect(alice)
        let (b, _) = try await core.connect(bob)
        for session in [a1, a2] {
            guard case .info(let joined) = try await session.frame() else { throw TestFailure("alice was not told bob joined") }
            #expect(joined.event == .join && joined.user == "bob")
        }
        await core.send(#"{"type":"broadcast","message":" hi ","client_id":"c7"}"#, from: a1)
        for session in [a1, a2] {
            guard case .message(let m) = try await session.frame() else { throw TestFailure("no message") }
            #expect(m.clientID == "c7" && m.message == "hi" && m.to == nil && !m.isDirect)
        }
        guard case .message(let m) = try await b.frame() else { throw TestFailure("no message") }
        #expect(m.clientID == nil && m.from == "alice")
    }

    @Test func joinAndLeaveOnlyOnFirstAndLastSession() async throws {
        let core = try ChatCore()
        let alice = try await core.user("alice"), bob = try await core.user("bob")
        let (watcher, _) = try await core.connect(bob)
        let (first, _) = try await core.connect(alice)
        let (second, _) = try await core.connect(alice)
        core.chat.close(first)
        core.chat.close(second)
        let frames = try await watcher.frames(2)
        #expect(frames == [.info(.init(event: .join, user: "alice")), .info(.init(event: .leave, user: "alice"))])
    }

    @Test func groupCommitKeepsIdOrderAcrossConcurrentSenders() async throws {
        let core = try ChatCore()
        var senders: [ChatSession] = []
        for index in 0..<5 {
            let (session, _) = try await core.connect(try await core.user("u\(index)"))
            senders.append(session)
        }
        let (reader, _) = try await core.connect(try await core.user("reader"))
        await withTaskGroup(of: Void.self) { group in
            for (index, sender) in senders.enumerated() {
                group.addTask {
                    for n in 0..<100 { await core.send(#"{"type":"broadcast","message":"\#(index)-\#(n)"}"#, from: sender) }
                }
            }
        }
        let ids = try await reader.frames(500, within: 20).compactMap { frame -> Int64? in
            if case .message(let m) = frame { return m.id }
            return nil
        }
        #expect(ids.count == 500)
        #expect(ids == ids.sorted() && Set(ids).count == 500)
        let stored = try await core.chat.messages.history(.broadcast, before: nil, limit: 200, maxBytes: 1 << 20)
        #expect(stored.messages.last?.id == ids.last)
        #expect(stored.hasMore)
    }

    @Test func unreadCountsAsDefined() async throws {
        let core = try ChatCore()
        let alice = try await core.user("alice")
        let (a, _) = try await core.connect(alice)
        await core.send(#"{"type":"broadcast","message":"before bob existed"}"#, from: a)
        _ = try await a.frame()
        let bob = try await core.user("bob")
        let (b, welcome) = try await core.connect(bob)
        #expect(welcome.unread.isEmpty, "old broadcast history is not unread for a newcomer")
        _ = try await a.frame()  // bob joined
        await core.send(#"{"type":"broadcast","message":"one"}"#, from: a)
        await core.send(#"{"type":"direct","to":"bob","message":"two"}"#, from: a)
        await core.send(#"{"type":"direct","to":"bob","message":"three"}"#, from: a)
        await core.send(#"{"type":"broadcast","message":"mine"}"#, from: b)
        let seen = try await b.frames(4)
        core.chat.close(b)
        var (b2, again) = try await core.connect(bob)
        #expect(again.unread == ["broadcast": 1, "alice": 2], "own messages are not counted")
        guard case .message(let lastDirect) = seen[2] else { throw TestFailure("unexpected \(seen)") }
        await core.send(#"{"type":"read","chat":"alice","up_to":\#(lastDirect.id - 1)}"#, from: b2)
        core.chat.close(b2)
        (b2, again) = try await core.connect(bob)
        #expect(again.unread == ["broadcast": 1, "alice": 1])
        await core.send(#"{"type":"read","chat":"alice","up_to":1}"#, from: b2)  // lower: ignored
        core.chat.close(b2)
        (_, again) = try await core.connect(bob)
        #expect(again.unread == ["broadcast": 1, "alice": 1])
    }

    @Test func readIsEchoedToTheOtherSessionsOnly() async throws {
        let core = try ChatCore()
        let alice = try await core.user("alice")
        let (a1, _) = try await core.connect(alice)
        let (a2, _) = try await core.connect(alice)
        await core.send(#"{"type":"broadcast","message":"x"}"#, from: a1)
        guard case .message(let m) = try await a1.frame() else { throw TestFailure("no message") }
        _ = try await a2.frame()
        await core.send(#"{"type":"read","chat":"broadcast","up_to":\#(m.id + 100)}"#, from: a1)
        #expect(try await a2.frame() == .read(chat: "broadcast", upTo: m.id), "clamped to the newest message")
        await core.send(#"{"type":"users"}"#, from: a1)
        guard case .users = try await a1.frame() else { throw TestFailure("a1 got an echo of its own read") }
    }

    @Test func directToUnknownUserIsRefusedAndNotStored() async throws {
        let core = try ChatCore()
        let (a, _) = try await core.connect(try await core.user("alice"))
        await core.send(#"{"type":"direct","to":"nobody","message":"x","client_id":"q"}"#, from: a)
        #expect(try await a.frame() == .error(code: .unknownUser, message: "no user named 'nobody'", clientID: "q"))
        let history = try await core.chat.messages.history(.broadcast, before: nil, limit: 10, maxBytes: 1 << 20)
        #expect(history.messages.isEmpty)
    }

    @Test func rateLimitedExcessIsNotStored() async throws {
        let core = try ChatCore(rate: .init(perSecond: 0.001, burst: 2))
        let (a, _) = try await core.connect(try await core.user("alice"))
        for n in 0..<4 { await core.send(#"{"type":"broadcast","message":"m\#(n)","client_id":"\#(n)"}"#, from: a) }
        let frames = try await a.frames(4)
        let errors = frames.filter { if case .error(.rateLimited, _, _) = $0 { true } else { false } }
        #expect(errors.count == 2)
        try await Task.sleep(for: .milliseconds(100))
        let stored = try await core.chat.messages.history(.broadcast, before: nil, limit: 10, maxBytes: 1 << 20)
        #expect(stored.messages.map(\.message) == ["m0", "m1"])
    }

    @Test func slowConsumerIsClosedWhileOthersKeepReceiving() async throws {
        let core = try ChatCore()
        let (fast, _) = try await core.connect(try await core.user("fast"))
        let (slow, _) = try await core.connect(try await core.user("slow"), queueLimit: 4096)
        _ = try await fast.frame()  // slow joined
        let text = String(repeating: "z", count: 1000)
        for _ in 0..<20 {
            await core.send(#"{"type":"broadcast","message":"\#(text)"}"#, from: fast)
        }
        #expect(try await fast.frames(20).count == 20)
        #expect(await slow.testDrain.next() == .close(.slowConsumer))
    }

    @Test func historyPagesOldestFirst() async throws {
        let core = try ChatCore()
        let (a, _) = try await core.connect(try await core.user("alice"))
        for n in 1...7 { await core.send(#"{"type":"broadcast","message":"\#(n)"}"#, from: a) }
        let live = try await a.frames(7)
        guard case .message(let fifth) = live[4] else { throw TestFailure("unexpected \(live)") }
        await core.send(#"{"type":"history","chat":"broadcast","before":\#(fifth.id),"limit":3}"#, from: a)
        guard case .history(let page) = try await a.frame() else { throw TestFailure("no history") }
        #expect(page.messages.map(\.message) == ["2", "3", "4"])
        #expect(page.hasMore)
        await core.send(#"{"type":"history","chat":"broadcast","before":\#(fifth.id),"limit":4}"#, from: a)
        guard case .history(let all) = try await a.frame() else { throw TestFailure("no history") }
        #expect(all.messages.map(\.message) == ["1", "2", "3", "4"])
        #expect(!all.hasMore)
    }
}

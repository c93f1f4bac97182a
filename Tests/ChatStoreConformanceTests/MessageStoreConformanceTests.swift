import Foundation
import Testing
@testable import ChatCore
import Shared

/// ``MessageStore`` on both backends: ids in order, one conversation for both directions of a
/// direct chat, history pages, and the unread counts and read markers of PROTOCOL.md §2 and §6,
/// which each store computes in its own SQL.
@Suite("Message store conformance")
struct MessageStoreConformanceTests {
    static func broadcast(_ from: Account, _ body: String) -> MessageDraft {
        MessageDraft(sender: from, recipient: nil, body: body, clientID: nil)
    }

    static func direct(_ from: Account, _ to: Account, _ body: String) -> MessageDraft {
        MessageDraft(sender: from, recipient: to, body: body, clientID: "c-\(body)")
    }

    static func users(_ stores: Stores, _ names: String...) async throws -> [Account] {
        var accounts: [Account] = []
        for name in names { accounts.append(try await stores.accounts.create(name: name, passwordHash: "x", nowMillis: 1)) }
        return accounts
    }

    @Test("insert returns the batch with ids rising in its order, and later batches above", arguments: StoreBackend.allCases)
    func insertReturnsIDsInOrder(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let users = try await Self.users(stores, "alice", "bob")
            let (alice, bob) = (users[0], users[1])
            let drafts = [Self.broadcast(alice, "1"), Self.direct(alice, bob, "2"), Self.broadcast(bob, "3"),
                          Self.direct(bob, alice, "4"), Self.broadcast(alice, "5")]
            let first = try await stores.messages.insert(drafts, nowMillis: 42_000)
            #expect(first.map(\.body) == ["1", "2", "3", "4", "5"])
            #expect(zip(first, first.dropFirst()).allSatisfy { $0.id < $1.id })
            #expect(first.map(\.sender) == drafts.map(\.sender) && first.map(\.recipient) == drafts.map(\.recipient))
            #expect(first.map(\.clientID) == drafts.map(\.clientID))
            #expect(first.allSatisfy { $0.createdAtMillis == 42_000 })
            let second = try await stores.messages.insert([Self.broadcast(bob, "6")], nowMillis: 43_000)
            #expect(second.count == 1 && second[0].id > first.last!.id)
            #expect(try await stores.messages.insert([], nowMillis: 44_000).isEmpty)
        }
    }

    @Test("broadcast and direct conversations; both directions are one conversation", arguments: StoreBackend.allCases)
    func conversations(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let users = try await Self.users(stores, "alice", "bob", "carol")
            let (alice, bob, carol) = (users[0], users[1], users[2])
            let stored = try await stores.messages.insert([
                Self.broadcast(alice, "all-1"), Self.direct(alice, bob, "ab-1"), Self.direct(bob, alice, "ba-1"),
                Self.direct(alice, carol, "ac-1"), Self.broadcast(bob, "all-2"), Self.direct(carol, bob, "cb-1"),
            ], nowMillis: 1_000)
            let id = Dictionary(uniqueKeysWithValues: stored.map { ($0.body, $0.id) })

            let aliceBob = try await stores.messages.newestFirst(.direct(me: alice, other: bob), before: nil, limit: 50)
            #expect(aliceBob.map(\.message) == ["ba-1", "ab-1"])
            #expect(aliceBob.map(\.id) == [id["ba-1"]!, id["ab-1"]!])
            #expect(aliceBob.map(\.from) == ["bob", "alice"] && aliceBob.map(\.to) == ["alice", "bob"])
            let bobAlice = try await stores.messages.newestFirst(.direct(me: bob, other: alice), before: nil, limit: 50)
            #expect(bobAlice == aliceBob)
            #expect(try await stores.messages.newestFirst(.direct(me: alice, other: carol), before: nil, limit: 50).map(\.message) == ["ac-1"])
            #expect(try await stores.messages.newestFirst(.direct(me: carol, other: bob), before: nil, limit: 50).map(\.message) == ["cb-1"])
            let all = try await stores.messages.newestFirst(.broadcast, before: nil, limit: 50)
            #expect(all.map(\.message) == ["all-2", "all-1"])
            #expect(all.allSatisfy { $0.to == nil })
            #expect(all.first?.ts == Timestamp.rfc3339(millis: 1_000))
        }
    }

    /// `has_more` is exact: true only when an older message exists (the store fetches one more
    /// than asked), and true when the byte cap cut the page short.
    @Test("history pages newest first, has_more exact, the byte cap", arguments: StoreBackend.allCases)
    func historyPages(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alice = try await Self.users(stores, "alice")[0]
            let stored = try await stores.messages.insert((1...7).map { Self.broadcast(alice, "m\($0)") }, nowMillis: 1)
            let ids = stored.map(\.id)
            let page1 = try await stores.messages.history(.broadcast, before: nil, limit: 3, maxBytes: 1 << 20)
            #expect(page1.messages.map(\.message) == ["m5", "m6", "m7"] && page1.hasMore)
            let page2 = try await stores.messages.history(.broadcast, before: ids[4], limit: 3, maxBytes: 1 << 20)
            #expect(page2.messages.map(\.message) == ["m2", "m3", "m4"] && page2.hasMore)
            let page3 = try await stores.messages.history(.broadcast, before: ids[1], limit: 3, maxBytes: 1 << 20)
            #expect(page3.messages.map(\.message) == ["m1"] && !page3.hasMore)
            let exact = try await stores.messages.history(.broadcast, before: ids[3], limit: 3, maxBytes: 1 << 20)
            #expect(exact.messages.map(\.message) == ["m1", "m2", "m3"] && !exact.hasMore, "exactly the rest: no more")
            let everything = try await stores.messages.history(.broadcast, before: nil, limit: 7, maxBytes: 1 << 20)
            #expect(everything.messages.count == 7 && !everything.hasMore)

            // 1000-character bodies estimate at 160 + 5 + 2000 bytes: two fit in 4400, a third does not
            let long = try await stores.messages.insert((1...4).map { Self.broadcast(alice, String(repeating: "\($0)", count: 1_000)) }, nowMillis: 2)
            let capped = try await stores.messages.history(.broadcast, before: nil, limit: 10, maxBytes: 4_400)
            #expect(capped.messages.map(\.id) == [long[2].id, long[3].id] && capped.hasMore)
            let tiny = try await stores.messages.history(.broadcast, before: nil, limit: 10, maxBytes: 10)
            #expect(tiny.messages.map(\.id) == [long[3].id] && tiny.hasMore, "the newest message is sent even over the cap")
        }
    }

    @Test("welcomeCounts: unread above the marker, not one's own; last visible id; roster version", arguments: StoreBackend.allCases)
    func welcomeCounts(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let users = try await Self.users(stores, "alice", "bob", "carol")
            let (alice, bob, carol) = (users[0], users[1], users[2])
            let stored = try await stores.messages.insert([
                Self.broadcast(bob, "b1"), Self.broadcast(alice, "a1"), Self.broadcast(bob, "b2"),
                Self.direct(bob, alice, "ba1"), Self.direct(bob, alice, "ba2"), Self.direct(bob, alice, "ba3"),
                Self.direct(alice, bob, "ab1"), Self.direct(carol, alice, "ca1"), Self.direct(bob, carol, "bc1"),
            ], nowMillis: 1)
            let id = Dictionary(uniqueKeysWithValues: stored.map { ($0.body, $0.id) })
            let version = try await stores.accounts.rosterVersion()

            let forAlice = try await stores.messages.welcomeCounts(for: alice)
            #expect(forAlice.unread == [ChatRef.broadcastName: 2, "bob": 3, "carol": 1])
            #expect(forAlice.lastID == id["ca1"]!, "bob→carol is not alice's")
            #expect(forAlice.accounts == version)
            let forBob = try await stores.messages.welcomeCounts(for: bob)
            #expect(forBob.unread == [ChatRef.broadcastName: 1, "alice": 1])
            #expect(forBob.lastID == id["bc1"]!)
            let forCarol = try await stores.messages.welcomeCounts(for: carol)
            #expect(forCarol.unread == [ChatRef.broadcastName: 3, "bob": 1])
            #expect(forCarol.lastID == id["bc1"]!)

            // an account made now starts with everything read; new messages count
            let dave = try await stores.accounts.create(name: "dave", passwordHash: "x", nowMillis: 2)
            let fresh = try await stores.messages.welcomeCounts(for: dave)
            #expect(fresh.unread.isEmpty && fresh.lastID == id["b2"]!)
            #expect(fresh.accounts == AccountRoster.Version(count: 4, maxID: dave.id))
            let later = try await stores.messages.insert([Self.broadcast(alice, "a2"), Self.direct(bob, dave, "bd1")], nowMillis: 3)
            let afterwards = try await stores.messages.welcomeCounts(for: dave)
            #expect(afterwards.unread == [ChatRef.broadcastName: 1, "bob": 1] && afterwards.lastID == later[1].id)
        }
    }

    /// PROTOCOL.md §6: a marker only moves forward, and never past the newest message, so that it
    /// cannot swallow messages not yet written.
    @Test("markRead moves forward only, ignores a lower marker, clamps to the newest message", arguments: StoreBackend.allCases)
    func markRead(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let users = try await Self.users(stores, "alice", "bob")
            let (alice, bob) = (users[0], users[1])
            let stored = try await stores.messages.insert([
                Self.broadcast(bob, "b1"), Self.broadcast(bob, "b2"), Self.broadcast(bob, "b3"),
                Self.direct(bob, alice, "ba1"), Self.direct(bob, alice, "ba2"),
            ], nowMillis: 1)
            let ids = stored.map(\.id)
            let newest = ids.last!

            #expect(try await stores.messages.markRead(account: alice, chatID: 0, upTo: ids[1]) == ids[1])
            #expect(try await stores.messages.welcomeCounts(for: alice).unread == [ChatRef.broadcastName: 1, "bob": 2])
            #expect(try await stores.messages.markRead(account: alice, chatID: 0, upTo: ids[0]) == nil, "lower: ignored")
            #expect(try await stores.messages.markRead(account: alice, chatID: 0, upTo: ids[1]) == nil, "same: not moved")
            #expect(try await stores.messages.markRead(account: alice, chatID: 0, upTo: newest + 1_000) == newest, "clamped")
            #expect(try await stores.messages.markRead(account: alice, chatID: 0, upTo: newest + 2_000) == nil)
            #expect(try await stores.messages.markRead(account: alice, chatID: bob.id, upTo: ids[3]) == ids[3])
            #expect(try await stores.messages.welcomeCounts(for: alice).unread == ["bob": 1])
            #expect(try await stores.messages.markRead(account: alice, chatID: bob.id, upTo: newest) == newest)
            #expect(try await stores.messages.welcomeCounts(for: alice).unread.isEmpty)

            // a new account's marker starts at the newest message: marking older ones moves nothing
            let carol = try await stores.accounts.create(name: "carol", passwordHash: "x", nowMillis: 2)
            #expect(try await stores.messages.markRead(account: carol, chatID: 0, upTo: ids[2]) == nil)
            #expect(try await stores.messages.markRead(account: carol, chatID: 0, upTo: newest) == nil)
        }
    }
}

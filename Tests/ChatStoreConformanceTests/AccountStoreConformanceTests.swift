import Foundation
import Testing
@testable import ChatCore
import Shared

/// ``AccountStore`` on both backends: names unique in any case, the roster and the version a
/// welcome compares, and tokens (stored as hashes, their end read and written, gone with their
/// account).
@Suite("Account store conformance")
struct AccountStoreConformanceTests {
    static func token(_ seed: String) -> Data { SessionToken.hash(seed) }

    @Test("create, then find by name key; credentials hold the hash", arguments: StoreBackend.allCases)
    func createAndFind(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alice = try await stores.accounts.create(name: "Alice", passwordHash: "hash-a", nowMillis: 1_000)
            #expect(alice.name == "Alice")
            #expect(try await stores.accounts.account(nameKey: "alice") == alice)
            #expect(try await stores.accounts.credentials(nameKey: "alice")?.passwordHash == "hash-a")
            #expect(try await stores.accounts.account(nameKey: "Alice") == nil, "lookups are by the canonical key")
            #expect(try await stores.accounts.account(nameKey: "bob") == nil)
        }
    }

    @Test("a name taken in another case is nameTaken", arguments: StoreBackend.allCases)
    func nameTakenInAnotherCase(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alice = try await stores.accounts.create(name: "alice", passwordHash: "x", nowMillis: 1)
            await #expect(throws: AccountStoreError.nameTaken) {
                try await stores.accounts.create(name: "ALICE", passwordHash: "y", nowMillis: 2)
            }
            let roster = try await stores.accounts.roster()
            #expect(roster.accounts == [alice])
            #expect(try await stores.accounts.credentials(nameKey: "alice")?.passwordHash == "x")
        }
    }

    /// The welcome's roster version is (count, highest id): it changes on every create and
    /// delete only because ids are never reused.
    @Test("roster in name-key order; its version changes on create and delete; ids are not reused", arguments: StoreBackend.allCases)
    func rosterAndVersion(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let empty = try await stores.accounts.roster()
            #expect(empty.accounts.isEmpty && empty.version == AccountRoster.Version(count: 0, maxID: 0))
            var made: [Account] = []
            for name in ["bc", "b_c", "B-d", "a", "B.c", "Zed"] {
                made.append(try await stores.accounts.create(name: name, passwordHash: "x", nowMillis: 1))
            }
            #expect(made.map(\.id) == made.map(\.id).sorted() && Set(made.map(\.id)).count == made.count)
            let roster = try await stores.accounts.roster()
            let byKey = made.sorted { Array(Username.canonicalKey($0.name).utf8).lexicographicallyPrecedes(Array(Username.canonicalKey($1.name).utf8)) }
            #expect(roster.accounts == byKey)
            let top = made.last!
            #expect(roster.version == AccountRoster.Version(count: 6, maxID: top.id))
            #expect(try await stores.accounts.rosterVersion() == roster.version)

            #expect(try await stores.accounts.delete(nameKey: "zed") == top)
            let afterDelete = try await stores.accounts.rosterVersion()
            #expect(afterDelete == AccountRoster.Version(count: 5, maxID: made[made.count - 2].id))
            let again = try await stores.accounts.create(name: "Zed", passwordHash: "x", nowMillis: 2)
            #expect(again.id > top.id, "a deleted account's id is not handed out again")
            #expect(try await stores.accounts.rosterVersion() == AccountRoster.Version(count: 6, maxID: again.id))
            await #expect(throws: AccountStoreError.noSuchAccount) {
                try await stores.accounts.delete(nameKey: "nobody")
            }
        }
    }

    @Test("tokens: insert, look up with account and end, move the end, delete", arguments: StoreBackend.allCases)
    func tokens(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alice = try await stores.accounts.create(name: "alice", passwordHash: "x", nowMillis: 1)
            let hash = Self.token("t1")
            try await stores.accounts.insertToken(hash: hash, accountID: alice.id, nowMillis: 1_000, expiresMillis: 5_000)
            let found = try await stores.accounts.token(hash: hash)
            #expect(found?.account == alice && found?.endMillis == 5_000)
            #expect(try await stores.accounts.token(hash: Self.token("unknown")) == nil)
            try await stores.accounts.setTokenEnd(hash: hash, endMillis: 9_000)
            #expect(try await stores.accounts.token(hash: hash)?.endMillis == 9_000)
            // an end in the past is stored as it is: TokenLifetime decides, not the store
            try await stores.accounts.setTokenEnd(hash: hash, endMillis: 10)
            #expect(try await stores.accounts.token(hash: hash)?.endMillis == 10)
            try await stores.accounts.deleteToken(hash: hash)
            #expect(try await stores.accounts.token(hash: hash) == nil)
        }
    }

    @Test("deleting an account removes its tokens, and only its", arguments: StoreBackend.allCases)
    func deleteRemovesTokens(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alice = try await stores.accounts.create(name: "alice", passwordHash: "x", nowMillis: 1)
            let bob = try await stores.accounts.create(name: "bob", passwordHash: "x", nowMillis: 1)
            for (seed, account) in [("a1", alice), ("a2", alice), ("b1", bob)] {
                try await stores.accounts.insertToken(hash: Self.token(seed), accountID: account.id, nowMillis: 1, expiresMillis: 100)
            }
            _ = try await stores.accounts.delete(nameKey: "alice")
            #expect(try await stores.accounts.token(hash: Self.token("a1")) == nil)
            #expect(try await stores.accounts.token(hash: Self.token("a2")) == nil)
            #expect(try await stores.accounts.token(hash: Self.token("b1"))?.account == bob)
            // a new account under the old name does not inherit them
            _ = try await stores.accounts.create(name: "alice", passwordHash: "y", nowMillis: 2)
            #expect(try await stores.accounts.token(hash: Self.token("a1")) == nil)
        }
    }

    @Test("setPassword changes the hash and revokes every token of the account", arguments: StoreBackend.allCases)
    func setPasswordRevokesTokens(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alice = try await stores.accounts.create(name: "alice", passwordHash: "old", nowMillis: 1)
            let bob = try await stores.accounts.create(name: "bob", passwordHash: "x", nowMillis: 1)
            try await stores.accounts.insertToken(hash: Self.token("a"), accountID: alice.id, nowMillis: 1, expiresMillis: 100)
            try await stores.accounts.insertToken(hash: Self.token("b"), accountID: bob.id, nowMillis: 1, expiresMillis: 100)
            #expect(try await stores.accounts.setPassword(nameKey: "alice", passwordHash: "new") == alice)
            #expect(try await stores.accounts.credentials(nameKey: "alice")?.passwordHash == "new")
            #expect(try await stores.accounts.token(hash: Self.token("a")) == nil)
            #expect(try await stores.accounts.token(hash: Self.token("b"))?.account == bob)
            await #expect(throws: AccountStoreError.noSuchAccount) {
                try await stores.accounts.setPassword(nameKey: "nobody", passwordHash: "x")
            }
        }
    }
}

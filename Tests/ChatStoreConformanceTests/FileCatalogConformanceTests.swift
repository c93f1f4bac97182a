import Foundation
import Testing
@testable import ChatCore

/// ``FileCatalog`` on both backends: ownership and quota are decided by ``FilePolicy``, but each
/// store reads the state the decision needs inside its own transaction, in its own SQL. These
/// cases hold both to the same answers, and check that a refusal writes nothing.
@Suite("File catalog conformance")
struct FileCatalogConformanceTests {
    static let alice = (id: Int64(1), name: "alice")
    static let bob = (id: Int64(2), name: "bob")
    static let noQuota = FilePolicy(maxFileSize: 1 << 30)

    /// A record as `FileStore.commit` makes one: a fresh blob name for every upload.
    static func file(_ name: String, _ owner: (id: Int64, name: String), size: Int64 = 10, at millis: Int64 = 1_000) -> StoredFile {
        StoredFile(name: name, ownerID: owner.id, ownerName: owner.name, size: size, sha256: String(repeating: "ab", count: 32),
                   blob: UUID().uuidString, uploadedAtMillis: millis)
    }

    @Test("the owner replaces their own file; the old record is returned", arguments: StoreBackend.allCases)
    func ownerReplacesOwnFile(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let first = Self.file("a.txt", Self.alice, size: 10)
            #expect(try await stores.files.record(first, policy: Self.noQuota) == nil)
            let second = Self.file("a.txt", Self.alice, size: 20, at: 2_000)
            #expect(try await stores.files.record(second, policy: Self.noQuota) == first)
            #expect(try await stores.files.file(named: "a.txt") == second)
            #expect(try await stores.files.list() == [second])
        }
    }

    @Test("another owner's name is refused and left untouched", arguments: StoreBackend.allCases)
    func anotherOwnersNameIsRefused(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alices = Self.file("shared.txt", Self.alice)
            _ = try await stores.files.record(alices, policy: Self.noQuota)
            await #expect(throws: FileError.ownedByAnother(name: "shared.txt", owner: "alice")) {
                try await stores.files.record(Self.file("shared.txt", Self.bob, size: 5), policy: Self.noQuota)
            }
            #expect(try await stores.files.file(named: "shared.txt") == alices)
        }
    }

    @Test("rename and remove by someone else are refused as notOwner", arguments: StoreBackend.allCases)
    func nonOwnerMayNotRenameOrRemove(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alices = Self.file("mine.txt", Self.alice)
            _ = try await stores.files.record(alices, policy: Self.noQuota)
            await #expect(throws: FileError.notOwner(name: "mine.txt", owner: "alice")) {
                try await stores.files.rename(from: "mine.txt", to: "theirs.txt", by: Self.bob.id)
            }
            await #expect(throws: FileError.notOwner(name: "mine.txt", owner: "alice")) {
                try await stores.files.remove(named: "mine.txt", by: Self.bob.id)
            }
            #expect(try await stores.files.list() == [alices])
        }
    }

    @Test("rename onto one's own file replaces it and returns it", arguments: StoreBackend.allCases)
    func renameOntoOwnFileReplacesIt(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let source = Self.file("draft.txt", Self.alice, size: 10)
            let target = Self.file("final.txt", Self.alice, size: 30)
            _ = try await stores.files.record(source, policy: Self.noQuota)
            _ = try await stores.files.record(target, policy: Self.noQuota)
            let result = try await stores.files.rename(from: "draft.txt", to: "final.txt", by: Self.alice.id)
            #expect(result.original == source)
            #expect(result.renamed == source.renamed(to: "final.txt"))
            #expect(result.replaced == target)
            #expect(try await stores.files.list() == [source.renamed(to: "final.txt")])
        }
    }

    @Test("rename: onto another's file refused, a missing source, the same name", arguments: StoreBackend.allCases)
    func renameEdges(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alices = Self.file("a.txt", Self.alice)
            let bobs = Self.file("b.txt", Self.bob)
            _ = try await stores.files.record(alices, policy: Self.noQuota)
            _ = try await stores.files.record(bobs, policy: Self.noQuota)
            await #expect(throws: FileError.ownedByAnother(name: "b.txt", owner: "bob")) {
                try await stores.files.rename(from: "a.txt", to: "b.txt", by: Self.alice.id)
            }
            await #expect(throws: FileError.notFound("nothing.txt")) {
                try await stores.files.rename(from: "nothing.txt", to: "c.txt", by: Self.alice.id)
            }
            let same = try await stores.files.rename(from: "a.txt", to: "a.txt", by: Self.alice.id)
            #expect(same.original == alices && same.renamed == alices && same.replaced == nil)
            #expect(try await stores.files.list() == [alices, bobs])
            let moved = try await stores.files.rename(from: "a.txt", to: "c.txt", by: Self.alice.id)
            #expect(moved.replaced == nil)
            #expect(try await stores.files.list() == [bobs, alices.renamed(to: "c.txt")])
        }
    }

    @Test("remove by the owner returns the record; a missing name is notFound", arguments: StoreBackend.allCases)
    func ownerRemoves(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let alices = Self.file("gone.txt", Self.alice)
            _ = try await stores.files.record(alices, policy: Self.noQuota)
            #expect(try await stores.files.remove(named: "gone.txt", by: Self.alice.id) == alices)
            #expect(try await stores.files.file(named: "gone.txt") == nil)
            await #expect(throws: FileError.notFound("gone.txt")) {
                try await stores.files.remove(named: "gone.txt", by: Self.alice.id)
            }
        }
    }

    /// The quota counts the owner's other files and the new size, not the size of the file being
    /// replaced (it stops counting at the commit), nor anybody else's files.
    @Test("quota: other files count, the replaced file's old size does not; a refusal writes nothing", arguments: StoreBackend.allCases)
    func quotaCountsOtherFilesOnly(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let policy = FilePolicy(maxFileSize: 1 << 30, quota: 100)
            _ = try await stores.files.record(Self.file("a", Self.alice, size: 60), policy: policy)
            let b30 = Self.file("b", Self.alice, size: 30)
            _ = try await stores.files.record(b30, policy: policy)
            // replacing b (30) with 40: 60 + 40 = 100, exactly the quota
            let b40 = Self.file("b", Self.alice, size: 40)
            #expect(try await stores.files.record(b40, policy: policy) == b30)
            await #expect(throws: FileError.quotaExceeded(quota: 100)) {
                try await stores.files.record(Self.file("b", Self.alice, size: 41), policy: policy)
            }
            #expect(try await stores.files.file(named: "b") == b40, "a refused replace leaves the old record")
            await #expect(throws: FileError.quotaExceeded(quota: 100)) {
                try await stores.files.record(Self.file("c", Self.alice, size: 1), policy: policy)
            }
            #expect(try await stores.files.file(named: "c") == nil, "a refused upload writes no record")
            // another owner has a quota of their own
            _ = try await stores.files.record(Self.file("z", Self.bob, size: 100), policy: policy)
            #expect(try await stores.files.list().map(\.name) == ["a", "b", "z"])
        }
    }

    @Test("uploadCheck: the file under the name and the owner's usage elsewhere", arguments: StoreBackend.allCases)
    func uploadCheckReportsUsage(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let none = try await stores.files.uploadCheck(name: "x", ownerID: Self.alice.id)
            #expect(none.existing == nil && none.othersUsage == 0)
            let a = Self.file("a", Self.alice, size: 7)
            let b = Self.file("b", Self.alice, size: 11)
            let z = Self.file("z", Self.bob, size: 1_000)
            for file in [a, b, z] { _ = try await stores.files.record(file, policy: Self.noQuota) }
            let new = try await stores.files.uploadCheck(name: "c", ownerID: Self.alice.id)
            #expect(new.existing == nil && new.othersUsage == 18)
            let replace = try await stores.files.uploadCheck(name: "b", ownerID: Self.alice.id)
            #expect(replace.existing == b && replace.othersUsage == 7)
            let othersName = try await stores.files.uploadCheck(name: "z", ownerID: Self.alice.id)
            #expect(othersName.existing == z && othersName.othersUsage == 18)
        }
    }

    /// `forget` is for a record whose content was found missing: it must not remove a newer
    /// upload that replaced it meanwhile (another blob).
    @Test("forget removes the record only while it still points at the blob", arguments: StoreBackend.allCases)
    func forgetOnlyMatchingBlob(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let file = Self.file("f", Self.alice)
            _ = try await stores.files.record(file, policy: Self.noQuota)
            try await stores.files.forget(name: "f", blob: "some-other-blob")
            #expect(try await stores.files.file(named: "f") == file)
            try await stores.files.forget(name: "f", blob: file.blob)
            #expect(try await stores.files.file(named: "f") == nil)
        }
    }

    /// Clients and FTP listings see this order; PostgreSQL must not sort by its locale.
    @Test("list is sorted by the bytes of the UTF-8 name", arguments: StoreBackend.allCases)
    func listSortedByNameBytes(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let names = ["zebra", "Zebra", "apple", "Äpfel", "éclair", "_under", "10.txt", "9.txt", "a b", "a-b", "ab", "a.b", "日本"]
            for name in names { _ = try await stores.files.record(Self.file(name, Self.alice), policy: Self.noQuota) }
            let expected = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            #expect(try await stores.files.list().map(\.name) == expected)
        }
    }
}

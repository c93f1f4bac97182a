import Foundation
import NIOCore
import Shared
import Synchronization
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


/// The file area on a real directory and a real SQLite file.
@Suite("File store")
struct FileStoreTests {
    typealias Fixture = FileStoreFixture

    @Test func uploadReplaceAndDeleteWithEvents() async throws {
        let f = try await Fixture()
        let (added, replacedFirst) = try await f.put("notes.txt", "one", by: f.alice)
        #expect(!replacedFirst && added.size == 3)
        #expect(added.sha256 == "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed")
        let (_, replaced) = try await f.put("notes.txt", "two!", by: f.alice)
        #expect(replaced)
        #expect(try await f.content("notes.txt") == "two!")
        #expect(try f.entries("blobs").count == 1, "the replaced content is removed")
        _ = try await f.store.delete(named: "notes.txt", by: f.alice)
        #expect(try await f.store.list().isEmpty)
        #expect(try f.entries("blobs").isEmpty && f.entries("tmp").isEmpty)
        #expect(f.events.events.withLock { $0.map(\.event) } == [.added, .replaced, .deleted])
    }

    @Test func anotherOwnersNameIsRefusedAndUntouched() async throws {
        let f = try await Fixture()
        _ = try await f.put("a.txt", "alice's", by: f.alice)
        await #expect(throws: FileError.ownedByAnother(name: "a.txt", owner: "alice")) {
            _ = try await f.put("a.txt", "bob's", by: f.bob)
        }
        await #expect(throws: FileError.notOwner(name: "a.txt", owner: "alice")) {
            _ = try await f.store.delete(named: "a.txt", by: f.bob)
        }
        #expect(try await f.content("a.txt") == "alice's")
        #expect(try f.entries("tmp").isEmpty && f.entries("blobs").count == 1)
    }

    @Test func sizeLimitAndQuotaAbortWithoutTrace() async throws {
        let f = try await Fixture(maxFileSize: 10, quota: 15)
        await #expect(throws: FileError.tooLarge(limit: 10)) {
            _ = try await f.store.beginUpload(name: "big", by: f.alice, declaredSize: 11)
        }
        let upload = try await f.store.beginUpload(name: "grows", by: f.alice, declaredSize: nil)
        try await upload.write(ByteBuffer(string: "123456"))
        await #expect(throws: FileError.tooLarge(limit: 10)) { try await upload.write(ByteBuffer(string: "7890x")) }
        _ = try await f.put("first", "1234567890", by: f.alice)
        await #expect(throws: FileError.quotaExceeded(quota: 15)) { _ = try await f.put("second", "123456", by: f.alice) }
        _ = try await f.put("first", "0987654321", by: f.alice)  // replacing counts the new size only
        _ = try await f.put("second", "12345", by: f.alice)
        _ = try await f.put("bobs", "1234567890", by: f.bob)  // quotas are per owner
        #expect(try await f.store.list().map(\.name) == ["bobs", "first", "second"])
        #expect(try f.entries("tmp").isEmpty && f.entries("blobs").count == 3)
    }

    @Test func renameIsTheOwnersAndReplacesOnlyTheirOwnFiles() async throws {
        let f = try await Fixture()
        _ = try await f.put("a", "alice a", by: f.alice)
        _ = try await f.put("b", "alice b", by: f.alice)
        _ = try await f.put("bobs", "bob", by: f.bob)
        await #expect(throws: FileError.notOwner(name: "a", owner: "alice")) {
            _ = try await f.store.rename(from: "a", to: "c", by: f.bob)
        }
        await #expect(throws: FileError.ownedByAnother(name: "bobs", owner: "bob")) {
            _ = try await f.store.rename(from: "a", to: "bobs", by: f.alice)
        }
        await #expect(throws: FileError.notFound("zz")) { _ = try await f.store.rename(from: "zz", to: "c", by: f.alice) }
        await #expect(throws: FileError.self) { _ = try await f.store.rename(from: "a", to: "x/y", by: f.alice) }
        f.events.events.withLock { $0 = [] }

        let renamed = try await f.store.rename(from: "a", to: "b", by: f.alice)
        #expect(renamed.name == "b" && renamed.ownerName == "alice")
        #expect(try await f.content("b") == "alice a")
        #expect(try await f.store.list().map(\.name) == ["b", "bobs"])
        #expect(try f.entries("blobs").count == 2, "the replaced content is removed")
        #expect(f.events.events.withLock { $0.map { "\($0.event) \($0.file.name)" } } == ["deleted a", "replaced b"])
        _ = try await f.store.rename(from: "b", to: "b", by: f.alice)
        #expect(f.events.events.withLock { $0.count } == 2, "renaming onto itself changes nothing")
    }

    @Test func resumedAndAppendedUploadsStartFromTheStoredFile() async throws {
        let f = try await Fixture(maxFileSize: 12)
        _ = try await f.put("log", "0123456789", by: f.alice)
        let resumed = try await f.store.beginUpload(name: "log", by: f.alice, declaredSize: nil, start: .storedPrefix(4))
        try await resumed.write(ByteBuffer(string: "xy"))
        _ = try await resumed.commit()
        #expect(try await f.content("log") == "0123xy")
        let appended = try await f.store.beginUpload(name: "log", by: f.alice, declaredSize: nil, start: .storedFile)
        try await appended.write(ByteBuffer(string: "!"))
        _ = try await appended.commit()
        #expect(try await f.content("log") == "0123xy!")
        let fresh = try await f.store.beginUpload(name: "new", by: f.alice, declaredSize: nil, start: .storedFile)
        try await fresh.write(ByteBuffer(string: "n"))
        _ = try await fresh.commit()
        #expect(try await f.content("new") == "n", "APPE creates a missing file")
        await #expect(throws: FileError.invalidOffset(requested: 8, size: 7)) {
            _ = try await f.store.beginUpload(name: "log", by: f.alice, declaredSize: nil, start: .storedPrefix(8))
        }
        await #expect(throws: FileError.ownedByAnother(name: "log", owner: "alice")) {
            _ = try await f.store.beginUpload(name: "log", by: f.bob, declaredSize: nil, start: .storedFile)
        }
        let tooMuch = try await f.store.beginUpload(name: "log", by: f.alice, declaredSize: nil, start: .storedFile)
        await #expect(throws: FileError.tooLarge(limit: 12)) { try await tooMuch.write(ByteBuffer(string: "123456")) }
        #expect(try await f.content("log") == "0123xy!", "the copied part counts towards the limit; nothing changed")
        #expect(try f.entries("tmp").isEmpty)
    }

    @Test func namesAreNormalisedAndChecked() async throws {
        let f = try await Fixture()
        _ = try await f.put("e\u{301}.txt", "x", by: f.alice)
        #expect(try await f.store.list().map(\.name) == ["\u{E9}.txt"])
        #expect(try await f.content("\u{E9}.txt") == "x")
        await #expect(throws: FileError.self) { _ = try await f.put("../escape", "x", by: f.alice) }
    }

    @Test func recoveryRemovesCrashLeftovers() async throws {
        let f = try await Fixture()
        _ = try await f.put("kept", "keep me", by: f.alice)
        _ = try await f.put("lost", "gone", by: f.alice)
        let lostBlob = try #require(try await f.store.file(named: "lost")).blob
        try FileManager.default.removeItem(atPath: f.directory + "/files/blobs/" + lostBlob)
        _ = FileManager.default.createFile(atPath: f.directory + "/files/tmp/half.part", contents: Data("half".utf8))
        _ = FileManager.default.createFile(atPath: f.directory + "/files/blobs/0123orphan", contents: Data("orphan".utf8))
        try f.database.close()

        let again = try await Fixture(directory: f.directory)
        #expect(try await again.store.list().map(\.name) == ["kept"])
        #expect(try again.entries("tmp").isEmpty)
        #expect(try again.entries("blobs").count == 1)
        #expect(try await again.content("kept") == "keep me")
    }
}

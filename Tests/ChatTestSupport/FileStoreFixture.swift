import ChatCore
import Foundation
import ChatStoreSQLite
import NIOCore
import Shared
import Synchronization

/// The `file` events a store emitted, in order.
package final class EventLog: Sendable {
    package let events = Mutex<[FileEvent]>([])
}

/// The file area on a fresh data directory and a real SQLite file, with two accounts.
package struct FileStoreFixture {
    package let directory: String
    package let database: SQLiteDatabase
    package let store: FileStore
    package let events: EventLog
    package let alice: Account
    package let bob: Account

    package init(maxFileSize: Int64 = 1 << 20, quota: Int64? = nil, directory: String = makeTemporaryDirectory()) async throws {
        self.directory = directory
        database = try SQLiteDatabase(dataDirectory: directory, logger: quietLogger)
        let events = EventLog()
        self.events = events
        store = FileStore(dataDirectory: directory, catalog: SQLiteFileCatalog(database: database), policy: FilePolicy(maxFileSize: maxFileSize, quota: quota),
                          logger: quietLogger) { change in events.events.withLock { $0.append(change) } }
        try await store.recover()
        let accounts = SQLiteAccountStore(database: database)
        if let existing = try await accounts.account(nameKey: "alice") {
            alice = existing
        } else {
            alice = try await accounts.create(name: "alice", passwordHash: "x", nowMillis: 0)
        }
        if let existing = try await accounts.account(nameKey: "bob") {
            bob = existing
        } else {
            bob = try await accounts.create(name: "bob", passwordHash: "x", nowMillis: 0)
        }
    }

    package func put(_ name: String, _ text: String, by owner: Account) async throws -> (StoredFile, replaced: Bool) {
        let upload = try await store.beginUpload(name: name, by: owner, declaredSize: nil)
        try await upload.write(ByteBuffer(string: text))
        return try await upload.commit()
    }

    package func content(_ name: String) async throws -> String {
        let (file, handle) = try await store.open(named: name)
        var bytes = ByteBuffer()
        for try await var chunk in handle.readChunks(in: 0..<file.size, chunkLength: .kibibytes(64)) {
            bytes.writeBuffer(&chunk)
        }
        try await handle.close()
        return String(buffer: bytes)
    }

    package func entries(_ sub: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/files/" + sub)
    }
}

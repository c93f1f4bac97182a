import ChatCore
import Foundation
import GRDB

/// `chatd backup`: a copy of a data directory as of one moment, taken while chatd runs and
/// takes writes, that `chatd --data-dir DEST` serves as it is.
///
/// The moment is the read transaction in which SQLite's online backup copies the database.
/// The blobs need more care, because the server unlinks a blob as soon as the row naming it is
/// replaced or deleted, so a blob the snapshot names can be gone by the time it is copied. What
/// makes this solvable is how ``FileStore`` treats blobs: one is created complete (renamed into
/// `files/blobs` after being synced) before any row names it, never changes, and is unlinked
/// only after no committed row names it. So a blob named by the snapshot existed at the
/// snapshot. The backup hard-links every blob present into ``BlobStaging`` *before* the
/// snapshot: a named blob present then is staged; one created after the links is linked now,
/// and if it has already been unlinked again the snapshot is taken anew (a few times at most).
/// From then on the staged links keep every named blob readable whatever the server does, and
/// each is copied and checked against its row's size and SHA-256.
package struct DataBackup {
    /// What was backed up, for the one line `chatd backup` prints.
    package struct Summary: CustomStringConvertible {
        package let destination: String
        package let messages: Int
        package let accounts: Int
        package let files: Int
        package let bytes: Int64
        package let seconds: Double

        package var description: String {
            "backed up \(messages) messages, \(accounts) accounts, \(files) files (\(bytes) bytes) to \(destination) in "
                + String(format: "%.1f", seconds) + " s"
        }
    }

    /// A row of the snapshot's `files` table: what the copy of its blob must match.
    private struct SnapshotFile: Sendable {
        let name: String
        let size: Int64
        let sha256: String
        let blob: String
    }

    package let dataDirectory: String
    package let destination: String
    /// Snapshots taken before giving up on a file area that keeps changing under every one.
    package var maxSnapshots = 5
    /// Where remarks go that are not failures (a stale staging directory removed).
    package let note: (String) -> Void

    package func run() throws(BackupError) -> Summary {
        let started = ContinuousClock.now
        let databasePath = try checkedDatabasePath()
        let target = try BackupDestination(path: destination, note: note)
        let staging = try BlobStaging(filesDirectory: (dataDirectory as NSString).appendingPathComponent("files"), note: note)
        defer { staging.remove() }
        do throws(BackupError) {
            try target.create()
            let (files, messages, accounts) = try snapshot(databasePath: databasePath, into: target, staging: staging)
            let bytes = try copy(files, from: staging, into: target)
            try BackupInterruption.check()
            try target.publish()
            return Summary(destination: target.path, messages: messages, accounts: accounts, files: files.count, bytes: bytes,
                           seconds: (ContinuousClock.now - started) / .seconds(1))
        } catch {
            target.discard()
            throw error
        }
    }

    /// `DATA_DIR/chatd.sqlite`, which must exist: a backup never creates a database.
    private func checkedDatabasePath() throws(BackupError) -> String {
        do {
            return try ExistingDataDirectory.database(in: dataDirectory)
        } catch {
            throw .noData(error)
        }
    }

    /// Links, snapshots and links again until every blob the snapshot names is staged; returns
    /// the snapshot's files and its message and account counts.
    private func snapshot(databasePath: String, into target: BackupDestination, staging: BlobStaging)
        throws(BackupError) -> (files: [SnapshotFile], messages: Int, accounts: Int) {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            // No migrations: the backup copies the database as the running server has it.
            let source = try DatabasePool(path: databasePath, configuration: configuration)
            defer { try? source.close() }
            let copy = try DatabaseQueue(path: target.databasePath)
            defer { try? copy.close() }
            for attempt in 1...maxSnapshots {
                try staging.linkPresentBlobs()
                try BackupInterruption.check()
                try source.backup(to: copy)
                let files = try copy.read { db in
                    try Row.fetchAll(db, sql: "SELECT name, size, sha256, blob FROM files ORDER BY name").map {
                        SnapshotFile(name: $0["name"], size: $0["size"], sha256: $0["sha256"], blob: $0["blob"])
                    }
                }
                if let vanished = try files.first(where: { try !staging.link($0.blob) }) {
                    if attempt == maxSnapshots { throw BackupError.filesKeptChanging(file: vanished.name, attempts: attempt) }
                    continue
                }
                let (messages, accounts) = try copy.read { db in
                    (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0,
                     try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") ?? 0)
                }
                try copy.close()
                try BackupDisk.syncFile(target.databasePath)
                return (files, messages, accounts)
            }
            preconditionFailure("maxSnapshots must be at least 1")
        } catch let error as BackupError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }

    /// Copies each named blob from the staging links into the backup and checks it; returns
    /// the bytes copied.
    private func copy(_ files: [SnapshotFile], from staging: BlobStaging, into target: BackupDestination) throws(BackupError) -> Int64 {
        let copier = BlobCopier()
        var bytes: Int64 = 0
        for file in files {
            let copied = try copier.copy(from: staging.path(of: file.blob),
                                         to: (target.blobDirectory as NSString).appendingPathComponent(file.blob))
            guard copied.size == file.size, copied.sha256 == file.sha256 else {
                throw .blobMismatch(file: file.name, blob: file.blob, expectedSize: file.size, size: copied.size,
                                    expectedSHA256: file.sha256, sha256: copied.sha256)
            }
            bytes += copied.size
        }
        return bytes
    }

    package init(dataDirectory: String, destination: String, note: @escaping (String) -> Void) {
        self.dataDirectory = dataDirectory
        self.destination = destination
        self.note = note
    }
}

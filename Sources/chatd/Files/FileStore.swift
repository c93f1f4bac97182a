import Crypto
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import Shared
import _NIOFileSystem

/// The shared file area, for every door (HTTP now, FTP next): names, ownership, size limit and
/// quota, atomic uploads, and the `file` events. No door holds rules of its own.
///
/// Content lives under server-generated names in `files/blobs`; the user-facing name, owner,
/// size and hash live in the database. An upload streams into `files/tmp`, is synced, renamed
/// into `files/blobs` and only then committed to the database in one transaction: a reader sees
/// the old file or the new one, never part of one, and a broken upload leaves nothing.
final class FileStore: Sendable {
    /// The block a download that cannot use `sendfile` reads a file in (HTTP without the splicer,
    /// HTTPS, FTPS): large enough that the per-block hop is noise, small enough that a reader
    /// holding one block while the next is written stays in constant memory.
    static let readBlock = ByteCount.kibibytes(256)

    struct Limits: Sendable {
        var maxFileSize: Int64
        /// Bytes one owner may store in all; `nil` for no limit.
        var quota: Int64?
    }

    let limits: Limits
    let database: ChatDatabase
    let blobDirectory: FilePath
    let temporaryDirectory: FilePath
    private let onChange: @Sendable (FileEvent) -> Void
    private let fileSystem: FileSystem
    private let logger: Logger

    init(dataDirectory: String, database: ChatDatabase, limits: Limits, logger: Logger,
         onChange: @escaping @Sendable (FileEvent) -> Void) {
        let root = FilePath(dataDirectory).appending("files")
        self.blobDirectory = root.appending("blobs")
        self.temporaryDirectory = root.appending("tmp")
        self.database = database
        self.limits = limits
        self.onChange = onChange
        self.fileSystem = FileSystem(threadPool: .singleton)
        self.logger = logger
    }

    // MARK: reading

    /// Every file, sorted by the bytes of its UTF-8 name.
    func list() async throws -> [StoredFile] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM files ORDER BY name").map(Self.file(from:))
        }
    }

    func file(named raw: String) async throws -> StoredFile? {
        guard case .success(let name) = FileName.validate(raw) else { return nil }
        return try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [name]).map(Self.file(from:))
        }
    }

    /// Opens a file's content for reading. The descriptor keeps the content readable even if
    /// the file is replaced or deleted while it is being read.
    func open(named raw: String) async throws -> (StoredFile, ReadFileHandle) {
        let name = try Self.checkedName(raw)
        // A replace can swap the blob between the lookup and the open: look again once.
        for _ in 0..<2 {
            guard let file = try await file(named: name) else { throw FileError.notFound(name) }
            do {
                return (file, try await fileSystem.openFile(forReadingAt: blobDirectory.appending(file.blob), options: .init()))
            } catch let error as FileSystemError where error.code == .notFound {
                continue
            }
        }
        throw FileError.notFound(name)
    }

    // MARK: changing

    /// Where an upload's content begins.
    enum UploadStart: Sendable, Equatable {
        /// Empty: the upload is the whole new content.
        case empty
        /// The first bytes of the owner's stored file, up to this offset (FTP `REST` + `STOR`).
        case storedPrefix(Int64)
        /// The owner's whole stored file, if there is one (FTP `APPE`).
        case storedFile
    }

    /// Starts an upload of `raw` by `owner`, refusing at once what can be refused before any
    /// byte arrives: a bad name, another owner's name, a declared size over the limit or quota.
    ///
    /// A resumed or appended upload copies the stored part into the new temporary file first, so
    /// it still appears whole or not at all; the copy counts towards the limit and quota.
    func beginUpload(name raw: String, by owner: Account, declaredSize: Int64?, start: UploadStart = .empty) async throws -> FileUpload {
        let name = try Self.checkedName(raw)
        if let declaredSize, declaredSize > limits.maxFileSize {
            throw FileError.tooLarge(limit: limits.maxFileSize)
        }
        let (existing, othersUsage) = try await database.pool.read { db in
            (try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [name]).map(Self.file(from:)),
             try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE owner_id = ? AND name != ?",
                                arguments: [owner.id, name]) ?? 0)
        }
        if let existing, existing.ownerID != owner.id {
            throw FileError.ownedByAnother(name: name, owner: existing.ownerName)
        }
        if let quota = limits.quota, let declaredSize, othersUsage + declaredSize > quota {
            throw FileError.quotaExceeded(quota: quota)
        }
        let temporary = temporaryDirectory.appending(UUID().uuidString + ".part")
        let upload: FileUpload
        do {
            // Our own rename is the atomic step; NIO's transactional creation would add a second one.
            var options = OpenOptions.Write.newFile(replaceExisting: false)
            options.newFile?.transactionalCreation = false
            let handle = try await fileSystem.openFile(forWritingAt: temporary, options: options)
            upload = FileUpload(store: self, name: name, owner: owner, handle: handle, temporaryPath: temporary, othersUsage: othersUsage)
        } catch {
            logger.error("cannot create upload file", metadata: ["path": "\(temporary)", "error": "\(error)"])
            throw FileError.storage("\(error)")
        }
        let copied: Int64 = switch start {
        case .empty: 0
        case .storedPrefix(let offset): offset
        case .storedFile: existing?.size ?? 0
        }
        guard copied > 0 else { return upload }
        guard let existing, copied <= existing.size else {
            await upload.abort()
            throw FileError.invalidOffset(requested: copied, size: existing?.size ?? 0)
        }
        do {
            let source = try await fileSystem.openFile(forReadingAt: blobDirectory.appending(existing.blob), options: .init())
            do {
                for try await chunk in source.readChunks(in: 0..<copied, chunkLength: .bytes(Int64(FileUpload.blockSize))) {
                    try await upload.write(chunk)
                }
                try await source.close()
            } catch {
                try? await source.close()
                throw error
            }
        } catch {
            await upload.abort()
            if let error = error as? FileError { throw error }
            throw FileError.storage("\(error)")
        }
        return upload
    }

    /// Renames a file; only its owner may. A target the same owner already has is replaced; one
    /// that belongs to another user is refused. Sessions see the old name deleted and the new one
    /// added (or replaced).
    func rename(from rawSource: String, to rawTarget: String, by account: Account) async throws -> StoredFile {
        let source = try Self.checkedName(rawSource)
        let target = try Self.checkedName(rawTarget)
        let (original, renamed, replaced): (StoredFile, StoredFile, StoredFile?)
        do {
            (original, renamed, replaced) = try await database.pool.write { db in
                guard let file = try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [source]).map(Self.file(from:)) else {
                    throw FileError.notFound(source)
                }
                guard file.ownerID == account.id else { throw FileError.notOwner(name: source, owner: file.ownerName) }
                guard target != source else { return (file, file, nil) }
                let existing = try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [target]).map(Self.file(from:))
                if let existing, existing.ownerID != account.id {
                    throw FileError.ownedByAnother(name: target, owner: existing.ownerName)
                }
                try db.execute(sql: "DELETE FROM files WHERE name = ?", arguments: [target])
                try db.execute(sql: "UPDATE files SET name = ? WHERE name = ?", arguments: [target, source])
                let renamed = StoredFile(name: target, ownerID: file.ownerID, ownerName: file.ownerName, size: file.size,
                                         sha256: file.sha256, blob: file.blob, uploadedAtMillis: file.uploadedAtMillis)
                return (file, renamed, existing)
            }
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError.storage("\(error)")
        }
        guard original.name != renamed.name else { return renamed }
        if let replaced {
            await removeQuietly(blobDirectory.appending(replaced.blob))
        }
        logger.info("file renamed", metadata: ["from": "\(source)", "to": "\(target)", "by": "\(account.name)"])
        onChange(FileEvent(event: .deleted, file: original.wire, by: account.name))
        onChange(FileEvent(event: replaced == nil ? .added : .replaced, file: renamed.wire, by: account.name))
        return renamed
    }

    /// Moves a synced temporary file into place and records it, in that order; then removes
    /// the content it replaced and tells every session.
    func commit(_ upload: FileUpload, temporary: FilePath, size: Int64, sha256: String) async throws -> (StoredFile, replaced: Bool) {
        let blob = Self.newBlobName()
        let blobPath = blobDirectory.appending(blob)
        do {
            try await fileSystem.moveItem(at: temporary, to: blobPath)
            try await syncDirectory(blobDirectory)
        } catch {
            await removeQuietly(temporary)
            throw FileError.storage("\(error)")
        }
        let stored = StoredFile(name: upload.name, ownerID: upload.owner.id, ownerName: upload.owner.name, size: size,
                                sha256: sha256, blob: blob, uploadedAtMillis: Timestamp.nowMillis())
        let previous: StoredFile?
        do {
            previous = try await database.pool.write { [limits] db in
                let existing = try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [stored.name]).map(Self.file(from:))
                if let existing, existing.ownerID != stored.ownerID {
                    throw FileError.ownedByAnother(name: stored.name, owner: existing.ownerName)
                }
                if let quota = limits.quota {
                    let others = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE owner_id = ? AND name != ?",
                                                    arguments: [stored.ownerID, stored.name]) ?? 0
                    if others + stored.size > quota { throw FileError.quotaExceeded(quota: quota) }
                }
                try db.execute(sql: """
                    INSERT INTO files (name, owner_id, owner_name, size, sha256, blob, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET owner_id = excluded.owner_id, owner_name = excluded.owner_name,
                        size = excluded.size, sha256 = excluded.sha256, blob = excluded.blob, uploaded_at = excluded.uploaded_at
                    """, arguments: [stored.name, stored.ownerID, stored.ownerName, stored.size, stored.sha256, stored.blob, stored.uploadedAtMillis])
                return existing
            }
        } catch {
            await removeQuietly(blobPath)
            if let error = error as? FileError { throw error }
            throw FileError.storage("\(error)")
        }
        if let previous {
            await removeQuietly(blobDirectory.appending(previous.blob))
        }
        logger.info(previous == nil ? "file added" : "file replaced",
                    metadata: ["name": "\(stored.name)", "by": "\(upload.owner.name)", "size": "\(size)"])
        onChange(FileEvent(event: previous == nil ? .added : .replaced, file: stored.wire, by: upload.owner.name))
        return (stored, previous != nil)
    }

    /// Deletes a file; only its owner may.
    func delete(named raw: String, by account: Account) async throws -> StoredFile {
        let name = try Self.checkedName(raw)
        let removed: StoredFile
        do {
            removed = try await database.pool.write { db in
                guard let file = try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [name]).map(Self.file(from:)) else {
                    throw FileError.notFound(name)
                }
                guard file.ownerID == account.id else { throw FileError.notOwner(name: name, owner: file.ownerName) }
                try db.execute(sql: "DELETE FROM files WHERE name = ?", arguments: [name])
                return file
            }
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError.storage("\(error)")
        }
        await removeQuietly(blobDirectory.appending(removed.blob))
        logger.info("file deleted", metadata: ["name": "\(name)", "by": "\(account.name)"])
        onChange(FileEvent(event: .deleted, file: removed.wire, by: account.name))
        return removed
    }

    // MARK: start-up

    /// Creates the directories and removes what a crash can leave: temporary uploads, content
    /// no row points to, rows whose content is gone. Each is logged.
    func recover() async throws(StartupError) {
        do {
            for directory in [blobDirectory, temporaryDirectory] {
                try await fileSystem.createDirectory(at: directory, withIntermediateDirectories: true, permissions: nil)
            }
            for leftover in try await entries(of: temporaryDirectory) {
                logger.notice("removing an unfinished upload left by a crash", metadata: ["path": "\(temporaryDirectory.appending(leftover))"])
                await removeQuietly(temporaryDirectory.appending(leftover))
            }
            let rows = try await list()
            let referenced = Set(rows.map(\.blob))
            let present = Set(try await entries(of: blobDirectory))
            for orphan in present.subtracting(referenced) {
                logger.notice("removing content that no file refers to", metadata: ["blob": "\(orphan)"])
                await removeQuietly(blobDirectory.appending(orphan))
            }
            for row in rows where !present.contains(row.blob) {
                logger.warning("forgetting a file whose content is missing", metadata: ["name": "\(row.name)", "blob": "\(row.blob)"])
                _ = try await database.pool.write { db in
                    try db.execute(sql: "DELETE FROM files WHERE name = ? AND blob = ?", arguments: [row.name, row.blob])
                }
            }
        } catch {
            throw StartupError("cannot prepare the file area under \(blobDirectory.removingLastComponent()): \(error)")
        }
    }

    // MARK: helpers

    static func checkedName(_ raw: String) throws -> String {
        switch FileName.validate(raw) {
        case .success(let name): return name
        case .failure(let error): throw FileError.invalidName(error)
        }
    }

    private static func file(from row: Row) -> StoredFile {
        StoredFile(name: row["name"], ownerID: row["owner_id"], ownerName: row["owner_name"], size: row["size"],
                   sha256: row["sha256"], blob: row["blob"], uploadedAtMillis: row["uploaded_at"])
    }

    private static func newBlobName() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
    }

    private func entries(of directory: FilePath) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.contentsOfDirectory(atPath: directory.string)
        }
    }

    func removeQuietly(_ path: FilePath) async {
        do {
            _ = try await fileSystem.removeItem(at: path, strategy: .platformDefault)
        } catch is CancellationError {
            // Clean-up after a cut connection or during shutdown runs in cancelled tasks, where
            // NIO's file system gives up; one unlink is quick enough to do here.
            if unlink(path.string) != 0 && errno != ENOENT {
                logger.warning("cannot remove file", metadata: ["path": "\(path)", "errno": "\(errno)"])
            }
        } catch {
            logger.warning("cannot remove file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// fsync of a directory, so that a rename into it survives a power cut.
    private func syncDirectory(_ directory: FilePath) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            let fd = Glibc.open(directory.string, O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else { throw FileError.storage("cannot open \(directory): errno \(errno)") }
            defer { Glibc.close(fd) }
            guard fsync(fd) == 0 else { throw FileError.storage("cannot sync \(directory): errno \(errno)") }
        }
    }
}

import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import Shared
import _NIOFileSystem

/// The shared file area, for every door (HTTP and FTP): names, ownership, size limit and
/// quota, atomic uploads, and the `file` events. No door holds rules of its own.
///
/// Content lives under server-generated names in `files/blobs`; the user-facing name, owner,
/// size and hash live in the database (``FileCatalog``). An upload streams into `files/tmp`, is synced, renamed
/// into `files/blobs` and only then committed to the database in one transaction: a reader sees
/// the old file or the new one, never part of one, and a broken upload leaves nothing.
///
/// Nodes of a cluster share the data directory. Two nodes writing the same name each write
/// their own temporary file and blob (random names, so no path is ever written by two), and the
/// catalog's transaction decides which record wins; the loser's blob is removed as replaced.
package final class FileStore: Sendable {
    /// The block a download that cannot use `sendfile` reads a file in (HTTP without the splicer,
    /// HTTPS, FTPS): large enough that the per-block hop is noise, small enough that a reader
    /// holding one block while the next is written stays in constant memory.
    package static let readBlock = ByteCount.kibibytes(256)

    /// Size limit and quota; ownership is ``FilePolicy``'s too.
    package let policy: FilePolicy
    package let catalog: any FileCatalog
    /// Whether other processes write into this data directory too (cluster nodes): start-up
    /// clean-up then leaves young files alone, as they may be another node's work in progress.
    package let shared: Bool
    package let blobDirectory: FilePath
    package let temporaryDirectory: FilePath
    /// Told of every committed upload and every failed write, so a full disk is answered
    /// `storage_full` (HTTP 507, FTP 452) and logged once a minute.
    package let health: StorageHealth
    private let onChange: @Sendable (FileEvent) -> Void
    private let fileSystem: FileSystem
    private let logger: Logger

    package init(dataDirectory: String, catalog: any FileCatalog, shared: Bool = false, policy: FilePolicy, health: StorageHealth? = nil,
         logger: Logger, onChange: @escaping @Sendable (FileEvent) -> Void) {
        let root = FilePath(dataDirectory).appending("files")
        self.blobDirectory = root.appending("blobs")
        self.temporaryDirectory = root.appending("tmp")
        self.catalog = catalog
        self.shared = shared
        self.policy = policy
        self.health = health ?? StorageHealth(dataDirectory: dataDirectory, logger: logger)
        self.onChange = onChange
        self.fileSystem = FileSystem(threadPool: .singleton)
        self.logger = logger
    }

    // MARK: reading

    /// Every file, sorted by the bytes of its UTF-8 name.
    package func list() async throws -> [StoredFile] {
        try await catalog.list()
    }

    package func file(named raw: String) async throws -> StoredFile? {
        guard case .success(let name) = FileName.validate(raw) else { return nil }
        return try await catalog.file(named: name)
    }

    /// Opens a file's content for reading. The descriptor keeps the content readable even if
    /// the file is replaced or deleted while it is being read.
    package func open(named raw: String) async throws -> (StoredFile, ReadFileHandle) {
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
    package enum UploadStart: Sendable, Equatable {
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
    package func beginUpload(name raw: String, by owner: Account, declaredSize: Int64?, start: UploadStart = .empty) async throws -> FileUpload {
        let name = try Self.checkedName(raw)
        if let declaredSize { try policy.checkSize(declaredSize) }
        let (existing, othersUsage) = try await catalog.uploadCheck(name: name, ownerID: owner.id)
        try FilePolicy.checkMayWrite(over: existing, by: owner.id)
        if let declaredSize { try policy.checkQuota(othersUsage: othersUsage, plus: declaredSize) }
        let temporary = temporaryDirectory.appending(UUID().uuidString + ".part")
        let upload: FileUpload
        do {
            // Our own rename is the atomic step; NIO's transactional creation would add a second one.
            var options = OpenOptions.Write.newFile(replaceExisting: false)
            options.newFile?.transactionalCreation = false
            let handle = try await fileSystem.openFile(forWritingAt: temporary, options: options)
            upload = FileUpload(store: self, name: name, owner: owner, handle: handle, temporaryPath: temporary, othersUsage: othersUsage)
        } catch {
            let failure = storageError(error)
            if case .storage = failure {
                logger.error("cannot create upload file", metadata: ["path": "\(temporary)", "error": "\(error)"])
            }
            throw failure
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
            throw storageError(error)
        }
        return upload
    }

    /// Renames a file; only its owner may. A target the same owner already has is replaced; one
    /// that belongs to another user is refused. Sessions see the old name deleted and the new one
    /// added (or replaced).
    package func rename(from rawSource: String, to rawTarget: String, by account: Account) async throws -> StoredFile {
        let source = try Self.checkedName(rawSource)
        let target = try Self.checkedName(rawTarget)
        let (original, renamed, replaced): (StoredFile, StoredFile, StoredFile?)
        do {
            (original, renamed, replaced) = try await catalog.rename(from: source, to: target, by: account.id)
        } catch {
            throw storageError(error)
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
    package func commit(_ upload: FileUpload, temporary: FilePath, size: Int64, sha256: String) async throws -> (StoredFile, replaced: Bool) {
        let blob = Self.newBlobName()
        let blobPath = blobDirectory.appending(blob)
        do {
            try await fileSystem.moveItem(at: temporary, to: blobPath)
            try await syncDirectory(blobDirectory)
        } catch {
            await removeQuietly(temporary)
            throw storageError(error)
        }
        let stored = StoredFile(name: upload.name, ownerID: upload.owner.id, ownerName: upload.owner.name, size: size,
                                sha256: sha256, blob: blob, uploadedAtMillis: Timestamp.nowMillis())
        let previous: StoredFile?
        do {
            previous = try await catalog.record(stored, policy: policy)
        } catch {
            await removeQuietly(blobPath)
            throw storageError(error)
        }
        if let previous {
            await removeQuietly(blobDirectory.appending(previous.blob))
        }
        health.stored()
        logger.info(previous == nil ? "file added" : "file replaced",
                    metadata: ["name": "\(stored.name)", "by": "\(upload.owner.name)", "size": "\(size)"])
        onChange(FileEvent(event: previous == nil ? .added : .replaced, file: stored.wire, by: upload.owner.name))
        return (stored, previous != nil)
    }

    /// Deletes a file; only its owner may.
    package func delete(named raw: String, by account: Account) async throws -> StoredFile {
        let name = try Self.checkedName(raw)
        let removed: StoredFile
        do {
            removed = try await catalog.remove(named: name, by: account.id)
        } catch {
            throw storageError(error)
        }
        await removeQuietly(blobDirectory.appending(removed.blob))
        logger.info("file deleted", metadata: ["name": "\(name)", "by": "\(account.name)"])
        onChange(FileEvent(event: .deleted, file: removed.wire, by: account.name))
        return removed
    }

    /// The refusal for a write that failed: a ``FileError`` (a rule said no) as it is; else
    /// ``FileError/storageFull`` when the disk is full and ``FileError/storage(_:)`` otherwise, and
    /// ``health`` hears of it. Every catch in the file area ends here.
    package func storageError(_ error: any Error) -> FileError {
        if let error = error as? FileError { return error }
        return health.refused(error, writing: "a file") ? .storageFull : .storage("\(error)")
    }

    // MARK: start-up

    /// Creates the directories and removes what a crash can leave: temporary uploads, content
    /// no row points to, rows whose content is gone. Each is logged.
    ///
    /// In a shared data directory another node may be writing a temporary file, or have renamed
    /// a blob it has not recorded yet, right now: only files untouched for ``sharedGrace`` are
    /// taken for leftovers there (an upload writes at least every idle timeout, or is cut).
    package func recover() async throws(StartupError) {
        do {
            for directory in [blobDirectory, temporaryDirectory] {
                try await fileSystem.createDirectory(at: directory, withIntermediateDirectories: true, permissions: nil)
            }
            for leftover in try await leftovers(in: temporaryDirectory) {
                logger.notice("removing an unfinished upload left by a crash", metadata: ["path": "\(temporaryDirectory.appending(leftover))"])
                await removeQuietly(temporaryDirectory.appending(leftover))
            }
            let rows = try await list()
            let referenced = Set(rows.map(\.blob))
            let present = Set(try await entries(of: blobDirectory))
            let old = Set(try await leftovers(in: blobDirectory))
            for orphan in present.subtracting(referenced).intersection(old) {
                logger.notice("removing content that no file refers to", metadata: ["blob": "\(orphan)"])
                await removeQuietly(blobDirectory.appending(orphan))
            }
            for row in rows where !present.contains(row.blob) {
                logger.warning("forgetting a file whose content is missing", metadata: ["name": "\(row.name)", "blob": "\(row.blob)"])
                try await catalog.forget(name: row.name, blob: row.blob)
            }
        } catch {
            throw StartupError("cannot prepare the file area under \(blobDirectory.removingLastComponent()): \(error)")
        }
    }

    // MARK: helpers

    package static func checkedName(_ raw: String) throws -> String {
        switch FileName.validate(raw) {
        case .success(let name): return name
        case .failure(let error): throw FileError.invalidName(error)
        }
    }

    private static func newBlobName() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
    }

    /// How old a file in a shared data directory must be before start-up clean-up may take it
    /// for a crash's leftover.
    package static let sharedGrace: TimeInterval = 3600

    /// The entries of `directory` that start-up clean-up may remove: all of them, or in a shared
    /// directory those not modified for ``sharedGrace``.
    private func leftovers(in directory: FilePath) async throws -> [String] {
        let names = try await entries(of: directory)
        guard shared else { return names }
        return try await NIOThreadPool.singleton.runIfActive {
            let cutoff = Date().addingTimeInterval(-Self.sharedGrace)
            return names.filter { name in
                let attributes = try? FileManager.default.attributesOfItem(atPath: directory.appending(name).string)
                return (attributes?[.modificationDate] as? Date).map { $0 < cutoff } ?? false
            }
        }
    }

    private func entries(of directory: FilePath) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.contentsOfDirectory(atPath: directory.string)
        }
    }

    package func removeQuietly(_ path: FilePath) async {
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

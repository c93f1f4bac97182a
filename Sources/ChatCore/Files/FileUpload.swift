import Crypto
import NIOCore
import Shared
import _NIOFileSystem

/// One upload in progress: bytes stream in, are hashed as they pass and written to a temporary
/// file in large blocks; nothing is visible until ``commit()``. Used by one task at a time.
package final class FileUpload {
    package let name: String
    package let owner: Account
    private let store: FileStore
    private let handle: WriteFileHandle
    private let temporaryPath: FilePath
    /// What the owner already stores in other files, for the quota.
    private let othersUsage: Int64
    private var hasher = SHA256()
    private var pending: ByteBuffer
    private var written: Int64 = 0
    package private(set) var size: Int64 = 0
    private var closed = false
    private var aborted = false

    /// Bytes collected before one write to the disk: large enough that the thread-pool hop per
    /// write is noise, small enough to keep memory flat.
    package static let blockSize = 1 << 20

    package init(store: FileStore, name: String, owner: Account, handle: WriteFileHandle, temporaryPath: FilePath, othersUsage: Int64) {
        self.store = store
        self.name = name
        self.owner = owner
        self.handle = handle
        self.temporaryPath = temporaryPath
        self.othersUsage = othersUsage
        self.pending = ByteBufferAllocator().buffer(capacity: Self.blockSize)
    }

    /// Appends bytes. Passing the size limit or the quota, or a failing disk, aborts the upload
    /// (nothing stays on disk) and throws.
    package func write(_ bytes: ByteBuffer) async throws {
        do {
            try await append(bytes)
        } catch {
            await abort()
            throw error
        }
    }

    private func append(_ bytes: ByteBuffer) async throws {
        guard !closed else { throw FileError.storage("write after the upload ended") }
        size += Int64(bytes.readableBytes)
        try store.policy.checkSize(size)
        try store.policy.checkQuota(othersUsage: othersUsage, plus: size)
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        if pending.readableBytes == 0 && bytes.readableBytes >= Self.blockSize {
            try await flush(bytes)
            return
        }
        var bytes = bytes
        pending.writeBuffer(&bytes)
        if pending.readableBytes >= Self.blockSize {
            try await flush(pending)
            pending.clear()
        }
    }

    /// Syncs the content, moves it into place and records it.
    package func commit() async throws -> (StoredFile, replaced: Bool) {
        do {
            if pending.readableBytes > 0 {
                try await flush(pending)
                pending.clear()
            }
            try await handle.synchronize()
            try await handle.close()
            closed = true
        } catch {
            await abort()
            throw store.storageError(error)
        }
        let digest = hasher.finalize().storedForm
        return try await store.commit(self, temporary: temporaryPath, size: size, sha256: digest)
    }

    /// Throws the upload away: nothing of it stays on disk. Calling it again does nothing.
    package func abort() async {
        guard !aborted else { return }
        aborted = true
        if !closed {
            closed = true
            await handle.closeEvenIfCancelled()
        }
        await store.removeQuietly(temporaryPath)
    }

    private func flush(_ block: ByteBuffer) async throws {
        do {
            try await handle.write(contentsOf: block.readableBytesView, toAbsoluteOffset: written)
        } catch {
            throw store.storageError(error)
        }
        written += Int64(block.readableBytes)
    }
}

extension SHA256.Digest {
    /// The digest as ``StoredFile/sha256`` records it (lower-case hex): what an upload stores and
    /// a backup's copy is checked against, so both must write it the same way.
    package var storedForm: String {
        map { String(format: "%02x", $0) }.joined()
    }
}

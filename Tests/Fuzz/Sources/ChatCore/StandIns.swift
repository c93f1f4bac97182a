import NIOCore
import Shared

// The fuzzers' ChatCore: StoredFile.swift (FileError and StoredFile) from the real one, and
// stand-ins for the three types MultipartUpload.swift uses besides the parser, with the
// signatures it calls: the real ones need the database and the disk. They keep what a harness
// must see (which uploads began, what they received, whether they were aborted) and refuse what
// the real store refuses before the disk: a name that breaks the rules, and bytes over a limit.

package struct Account: Sendable, Hashable {
    package let id: Int64
    package let name: String

    package init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }
}

package final class FileStore: @unchecked Sendable {
    package let maxFileSize: Int64
    package private(set) var uploads: [FileUpload] = []

    package init(maxFileSize: Int64) {
        self.maxFileSize = maxFileSize
    }

    package func beginUpload(name raw: String, by owner: Account, declaredSize: Int64?) async throws -> FileUpload {
        let name: String
        switch FileName.validate(raw) {
        case .success(let valid): name = valid
        case .failure(let error): throw FileError.invalidName(error)
        }
        if let declaredSize, declaredSize > maxFileSize { throw FileError.tooLarge(limit: maxFileSize) }
        let upload = FileUpload(name: name, owner: owner, limit: maxFileSize)
        uploads.append(upload)
        return upload
    }
}

package final class FileUpload: @unchecked Sendable {
    package let name: String
    package let owner: Account
    package let limit: Int64
    package private(set) var bytes: [UInt8] = []
    package private(set) var aborted = false
    package private(set) var writesAfterEnd = 0

    package init(name: String, owner: Account, limit: Int64) {
        self.name = name
        self.owner = owner
        self.limit = limit
    }

    package func write(_ buffer: ByteBuffer) async throws {
        if aborted { writesAfterEnd += 1 }
        bytes += buffer.readableBytesView
        if Int64(bytes.count) > limit {
            aborted = true
            throw FileError.tooLarge(limit: limit)
        }
    }

    package func abort() async {
        aborted = true
    }
}

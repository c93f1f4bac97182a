import NIOCore
import Shared

// Stand-ins for the three chatd types MultipartUpload.swift uses besides the parser, with the
// signatures it calls: the real ones need the database and the disk. They keep what a harness
// must see (which uploads began, what they received, whether they were aborted) and refuse what
// the real store refuses before the disk: a name that breaks the rules, and bytes over a limit.

struct Account: Sendable, Hashable {
    let id: Int64
    let name: String
}

final class FileStore: @unchecked Sendable {
    let maxFileSize: Int64
    private(set) var uploads: [FileUpload] = []

    init(maxFileSize: Int64) {
        self.maxFileSize = maxFileSize
    }

    func beginUpload(name raw: String, by owner: Account, declaredSize: Int64?) async throws -> FileUpload {
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

final class FileUpload: @unchecked Sendable {
    let name: String
    let owner: Account
    let limit: Int64
    private(set) var bytes: [UInt8] = []
    private(set) var aborted = false
    private(set) var writesAfterEnd = 0

    init(name: String, owner: Account, limit: Int64) {
        self.name = name
        self.owner = owner
        self.limit = limit
    }

    func write(_ buffer: ByteBuffer) async throws {
        if aborted { writesAfterEnd += 1 }
        bytes += buffer.readableBytesView
        if Int64(bytes.count) > limit {
            aborted = true
            throw FileError.tooLarge(limit: limit)
        }
    }

    func abort() async {
        aborted = true
    }
}

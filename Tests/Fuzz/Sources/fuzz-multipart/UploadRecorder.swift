import HTTPParsing
import NIOCore
import Shared

/// The harness's file store: where `MultipartUpload.read` begins its upload. It keeps what the
/// properties must see (which uploads began, what they received, whether they were aborted) and
/// refuses what chatd's store refuses before the disk: a name that breaks ``FileName``'s rules,
/// and bytes over the limit.
final class UploadRecorder: @unchecked Sendable {
    let maxFileSize: Int64
    private(set) var uploads: [RecordedUpload] = []

    init(maxFileSize: Int64) {
        self.maxFileSize = maxFileSize
    }

    func begin(name raw: String, declaredSize: Int64?) throws(Refusal) -> RecordedUpload {
        let name: String
        switch FileName.validate(raw) {
        case .success(let valid): name = valid
        case .failure(let error): throw Refusal.invalidName(error.message)
        }
        if let declaredSize, declaredSize > maxFileSize { throw Refusal.tooLarge }
        let upload = RecordedUpload(name: name, limit: maxFileSize)
        uploads.append(upload)
        return upload
    }
}

/// Why the recorder refused, as the harness reports it.
enum Refusal: Error, Equatable {
    case invalidName(String)
    case tooLarge
}

/// One upload the reader began.
final class RecordedUpload: MultipartFileSink, @unchecked Sendable {
    let name: String
    let limit: Int64
    private(set) var bytes: [UInt8] = []
    private(set) var aborted = false
    private(set) var writesAfterEnd = 0

    init(name: String, limit: Int64) {
        self.name = name
        self.limit = limit
    }

    func write(_ buffer: ByteBuffer) async throws {
        if aborted { writesAfterEnd += 1 }
        bytes += buffer.readableBytesView
        if Int64(bytes.count) > limit {
            aborted = true
            throw Refusal.tooLarge
        }
    }

    func abort() async {
        aborted = true
    }
}

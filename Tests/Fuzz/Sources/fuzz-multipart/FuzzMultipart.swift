import Dispatch
import FuzzSupport
import HTTPParsing
import NIOCore
import Shared

/// Fuzzes chatd's multipart upload reader (`MultipartUpload.read`, HTTP `POST /api/files` and
/// `/upload`) as the server runs it, on multipart-kit's streaming parser, with an
/// ``UploadRecorder`` in place of the file store, the database and the disk. What is covered: the
/// `Content-Type` boundary and its check, the parser driven chunk by chunk behind
/// ``MultipartHeaderGuard``, the part headers and `Content-Disposition` parameters, the field
/// limit, the choice of the `file` part, and when an upload begins, receives bytes and is aborted.
/// Not covered: FileStore itself and what FileRoutes does with the result.
///
/// Two modes, by the first byte:
/// - raw: the rest of the input is the body (behind a few bytes choosing the `Content-Type` and
///   the chunking), read once whole and once in small chunks;
/// - well-formed: the input chooses a boundary, text fields and one file part (name, content,
///   `filename` or RFC 5987 `filename*`), and the form is built from them.
///
/// Properties:
/// - the result does not depend on how the body is split into chunks (what is stored, or that it is
///   refused: see ``Outcome/comparable``);
/// - a well-formed form gives exactly its file (name as ``FileName`` stores it, bytes) and fields;
///   a file name the rules refuse gives `invalidName`;
/// - at most one upload begins; a failure aborts it, a success returns it unaborted; nothing is
///   written to an aborted upload; a field holds at most `maxFieldBytes`.
@main enum FuzzMultipart {
    static func main() { runLibFuzzer(fuzz) }
}

let fixedBoundary = "----chatdFuzzBoundary7MA4YWxk"
let boundaryCharacters = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=?".utf8)
/// File name pieces: safe ASCII, `;` and `=` (which quoting must protect), composed and decomposed
/// accents, and what the name rules refuse (DEL, `/`, a leading or trailing space).
let namePieces = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-;=,'".map(String.init)
    + ["é", "中", "😀", "e\u{301}", "\u{7F}", "/"]

/// What one read came to, comparable across chunkings.
struct Outcome: Equatable, CustomStringConvertible {
    var result: String
    var uploadName: String?
    var uploadBytes: [UInt8]?
    var fields: [String: String] = [:]

    /// The outcome as the client sees it across chunkings: what a success stored, or only that
    /// the form was refused. Which refusal comes first may depend on where the body was cut:
    /// `MultipartHeaderGuard` looks at a whole chunk before the parser reads any of it, so in one
    /// chunk it refuses a late header-name byte before the parser reaches an earlier error (a bad
    /// file name, a syntax error), and in small chunks the earlier error comes first. Either way
    /// the client gets a 400 and nothing is stored; the upload's abort is checked in ``read``.
    var comparable: Outcome {
        result == "ok" ? self : Outcome(result: "refused")
    }

    var description: String {
        "\(result) name: \(uploadName.debugDescription) bytes: \(uploadBytes.map { String(decoding: $0, as: UTF8.self).debugDescription } ?? "nil") fields: \(fields)"
    }
}

/// Body chunks as they arrive, the way Hummingbird's `RequestBody` hands them to a route.
struct Chunks: AsyncSequence, Sendable {
    let chunks: [ByteBuffer]

    struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ArraySlice<ByteBuffer>
        mutating func next() async -> ByteBuffer? { rest.popFirst() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: chunks[...]) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = inputBytes(start, count)
    var reader = FuzzReader(input)
    if reader.byte() & 1 == 0 {
        fuzzRaw(&reader, input: input)
    } else {
        fuzzWellFormed(&reader, input: input)
    }
    return 0
}

func fuzzRaw(_ reader: inout FuzzReader, input: [UInt8]) {
    let contentType: String
    switch reader.choice(8) {
    case 0: contentType = "multipart/form-data; boundary=" + String(decoding: reader.chunk(), as: UTF8.self)
    case 1: contentType = "multipart/form-data; boundary=\"" + String(decoding: reader.chunk(), as: UTF8.self) + "\""
    case 2: contentType = String(decoding: reader.chunk(), as: UTF8.self)
    default: contentType = "multipart/form-data; boundary=" + fixedBoundary
    }
    let maxChunk = 1 + reader.choice(64)
    let seed = reader.uint64(bytes: 2)
    let limit: Int64 = reader.bool() ? 64 : 1 << 20
    let body = reader.rest()

    let whole = read(contentType: contentType, chunks: [body], limit: limit, input: input)
    let split = read(contentType: contentType, chunks: chunked(body, maxChunk: maxChunk, seed: seed), limit: limit, input: input)
    check(whole.comparable == split.comparable, "read whole: \(whole)\nin chunks of up to \(maxChunk): \(split)", input: input)
}

func fuzzWellFormed(_ reader: inout FuzzReader, input: [UInt8]) {
    let boundary = String(decoding: (0..<(1 + reader.choice(70))).map { _ in boundaryCharacters[reader.choice(boundaryCharacters.count)] }, as: UTF8.self)
    let fieldCount = reader.choice(4)
    let filePosition = reader.choice(fieldCount + 1)
    let filename = (0..<reader.choice(12)).map { _ in namePieces[reader.choice(namePieces.count)] }.joined()
    let extended = reader.bool()
    let fileContent = reader.chunk()
    var parts: [[UInt8]] = []
    var expectedFields: [String: String] = [:]
    for index in 0..<fieldCount {
        let name = "field" + String(reader.choice(3))
        let value = reader.chunk()
        expectedFields[name] = String(decoding: value, as: UTF8.self)
        parts.append(Array("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8) + value)
        if index + 1 == filePosition { parts.append(filePart(filename: filename, extended: extended, content: fileContent)) }
    }
    if filePosition == 0 { parts.insert(filePart(filename: filename, extended: extended, content: fileContent), at: 0) }

    let delimiter = Array("\r\n--\(boundary)".utf8)
    for part in parts where (part + [0x0D, 0x0A]).contains(delimiter) {
        return  // the boundary occurs in a part: not a well-formed form
    }
    var body: [UInt8] = []
    for part in parts { body += Array("--\(boundary)\r\n".utf8) + part + [0x0D, 0x0A] }
    body += Array("--\(boundary)--\r\n".utf8)

    let expected: Outcome = switch FileName.validate(filename) {
    case .success(let name): Outcome(result: "ok", uploadName: name, uploadBytes: fileContent, fields: expectedFields)
    case .failure(let error): Outcome(result: "refused \(Refusal.invalidName(error.message))")
    }
    let contentType = "multipart/form-data; boundary=" + (reader.bool() ? "\"\(boundary)\"" : boundary)
    let whole = read(contentType: contentType, chunks: [body], limit: 1 << 20, input: input)
    check(whole == expected, "the form \(String(decoding: body, as: UTF8.self).debugDescription)\nread as \(whole)\nexpected \(expected)", input: input)
    let maxChunk = 1 + reader.choice(64)
    let split = read(contentType: contentType, chunks: chunked(body, maxChunk: maxChunk, seed: reader.uint64(bytes: 2)), limit: 1 << 20, input: input)
    check(split == expected, "the form \(String(decoding: body, as: UTF8.self).debugDescription)\nread in chunks of up to \(maxChunk) as \(split)\nexpected \(expected)", input: input)
}

func filePart(filename: String, extended: Bool, content: [UInt8]) -> [UInt8] {
    let parameter = extended
        ? "filename*=UTF-8''" + filename.utf8.map { byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded() }.joined()
        : "filename=\"\(filename)\""
    return Array("Content-Disposition: form-data; name=\"file\"; \(parameter)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8) + content
}

extension String {
    func leftPadded() -> String { count == 1 ? "0" + self : self }
}

/// Splits `body` into chunks of 1 to `maxChunk` bytes, reproducibly from `seed`.
func chunked(_ body: [UInt8], maxChunk: Int, seed: UInt64) -> [[UInt8]] {
    var state = seed | 1
    var chunks: [[UInt8]] = []
    var rest = body[...]
    while !rest.isEmpty {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let length = 1 + Int((state >> 33) % UInt64(maxChunk))
        chunks.append(Array(rest.prefix(length)))
        rest = rest.dropFirst(length)
    }
    return chunks
}

/// One `MultipartUpload.read`, run to its end, with the invariants of the uploads it began checked.
func read(contentType: String, chunks: [[UInt8]], limit: Int64, input: [UInt8]) -> Outcome {
    let store = UploadRecorder(maxFileSize: limit)
    let body = Chunks(chunks: chunks.map { ByteBuffer(bytes: $0) })

    let outcome = runBlocking { () -> (String, MultipartUpload.Received<RecordedUpload>?) in
        do {
            let result = try await MultipartUpload.read(contentType: contentType, body: body) { name, size in
                try store.begin(name: name, declaredSize: size)
            }
            return ("ok", result)
        } catch let error as MultipartUpload.Failure {
            return ("\(error)", nil)
        } catch let error as Refusal {
            return ("refused \(error)", nil)
        } catch {
            return ("other error \(error)", nil)
        }
    }

    check(store.uploads.count <= 1, "\(store.uploads.count) uploads began for one form", input: input)
    for upload in store.uploads {
        check(upload.writesAfterEnd == 0, "bytes written to an aborted upload", input: input)
    }
    guard let result = outcome.1 else {
        check(store.uploads.allSatisfy(\.aborted), "a failed form (\(outcome.0)) left its upload unaborted", input: input)
        return Outcome(result: outcome.0)
    }
    check(store.uploads.count == 1 && store.uploads[0] === result.upload && !result.upload.aborted,
          "the upload returned is not the one begun, or was aborted", input: input)
    check((try? FileName.validate(result.upload.name).get()) == result.upload.name, "upload named \(result.upload.name.debugDescription)", input: input)
    // A field's bytes are limited; as text, each invalid byte became a 3-byte U+FFFD.
    for (name, value) in result.fields {
        check(value.utf8.count <= MultipartUpload.maxFieldBytes * 3, "field \(name) of \(value.utf8.count) bytes", input: input)
    }
    return Outcome(result: "ok", uploadName: result.upload.name, uploadBytes: result.upload.bytes, fields: result.fields)
}

/// Runs `body` to its end. `Task.immediate` runs it on this thread until it first suspends, which
/// with the stand-ins and an in-memory body it never does (twice as fast as a hop to the pool);
/// should it suspend, this waits.
func runBlocking<T>(_ body: @escaping @Sendable () async -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: T?
    Task.immediate {
        result = await body()
        done.signal()
    }
    done.wait()
    return result!
}

import Foundation
import MultipartKit
import NIOCore

/// Where the `file` part of a form goes as it arrives: chatd's file store upload, which keeps the
/// size limit and quota, or a fuzzer's recorder.
public protocol MultipartFileSink {
    func write(_ bytes: ByteBuffer) async throws
    /// Drops what was written: the form was refused after the file part began.
    func abort() async
}

/// Streams a `multipart/form-data` body: the part named `file` goes into a ``MultipartFileSink``
/// (begun with the part's filename) as it arrives; small text fields are collected. The parser reports body
/// bytes in many small slices, so they are coalesced into blocks before each write.
public struct MultipartUpload {
    /// Text fields are for things like the original app's `username`; anything longer is refused.
    public static let maxFieldBytes = 4096

    public struct Received<Sink: MultipartFileSink> {
        public let upload: Sink
        public let fields: [String: String]
    }

    /// A refusal by the sink (a bad name, a limit), passed on as it is.
    private struct SinkFailure: Error {
        let error: any Error
    }

    public enum Failure: Error {
        case notMultipart
        case noFilePart
        case malformed(String)
    }

    private enum Event {
        case header(String, String)
        case body(ByteBuffer)
        case partComplete
    }

    /// Reads the whole body: `contentType` is the request's `Content-Type`, `body` its bytes as they
    /// arrive (Hummingbird's `RequestBody` in chatd), `begin` starts the upload for a filename
    /// (with the declared size when known: 0 for an empty part). On any failure the started
    /// upload is aborted before throwing; what `begin` or the sink throw is thrown as it is.
    public static func read<Body: AsyncSequence, Sink: MultipartFileSink>(
        contentType: String?, body: Body, begin: (_ filename: String, _ declaredSize: Int64?) async throws -> Sink
    ) async throws -> Received<Sink> where Body.Element == ByteBuffer {
        guard let contentType,
              contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = boundary(of: contentType) else { throw Failure.notMultipart }
        // multipart-kit stops the process on an empty boundary (a precondition)
        guard isValidBoundary(boundary) else {
            throw Failure.malformed("the multipart boundary must be 1 to 70 characters from RFC 2046's set")
        }
        let parser = MultipartParser(boundary: boundary)
        var headerGuard = MultipartHeaderGuard(boundary: boundary)
        var events: [Event] = []
        var pendingBody = ByteBuffer()
        parser.onHeader = { name, value in events.append(.header(name, value)) }
        parser.onBody = { slice in pendingBody.writeBuffer(&slice) }
        parser.onPartComplete = {
            if pendingBody.readableBytes > 0 {
                events.append(.body(pendingBody))
                pendingBody = ByteBuffer()
            }
            events.append(.partComplete)
        }

        var partHeaders: [String: String] = [:]
        var partDisposition: (name: String?, filename: String?)?
        var upload: Sink?
        var uploadDone = false
        var currentField: (name: String, value: ByteBuffer)?
        var fields: [String: String] = [:]
        do {
            for try await chunk in body {
                guard headerGuard.admit(chunk.readableBytesView) else {
                    throw Failure.malformed("a part's header name has a byte outside ASCII")
                }
                try parser.execute(chunk)
                if pendingBody.readableBytes > 0 {
                    events.append(.body(pendingBody))
                    pendingBody = ByteBuffer()
                }
                let batch = events
                events.removeAll(keepingCapacity: true)
                for event in batch {
                    switch event {
                    case .header(let name, let value):
                        partHeaders[name.lowercased()] = value
                    case .body(var bytes):
                        // headers are complete once a part's first bytes arrive: parse them once
                        let disposition = partDisposition ?? parseDisposition(partHeaders["content-disposition"] ?? "")
                        partDisposition = disposition
                        if disposition.name == "file", let filename = disposition.filename, !uploadDone {
                            do {
                                if upload == nil { upload = try await begin(filename, nil) }
                                try await upload!.write(bytes)
                            } catch {
                                throw SinkFailure(error: error)
                            }
                        } else if let name = disposition.name {
                            if currentField == nil { currentField = (name, ByteBuffer()) }
                            currentField!.value.writeBuffer(&bytes)
                            guard currentField!.value.readableBytes <= maxFieldBytes else {
                                throw Failure.malformed("form field '\(name)' is longer than \(maxFieldBytes) bytes")
                            }
                        }
                    case .partComplete:
                        let disposition = partDisposition ?? parseDisposition(partHeaders["content-disposition"] ?? "")
                        if disposition.name == "file", disposition.filename != nil, !uploadDone {
                            if upload == nil, let filename = disposition.filename {
                                // an empty file has no body event
                                do {
                                    upload = try await begin(filename, 0)
                                } catch {
                                    throw SinkFailure(error: error)
                                }
                            }
                            uploadDone = true
                        } else if let field = currentField {
                            fields[field.name] = String(buffer: field.value)
                        } else if let name = disposition.name {
                            fields[name] = ""
                        }
                        currentField = nil
                        partHeaders = [:]
                        partDisposition = nil
                    }
                }
            }
        } catch {
            await upload?.abort()
            if let refusal = error as? SinkFailure { throw refusal.error }
            if error is Failure { throw error }
            throw Failure.malformed("the multipart body could not be read: \(error)")
        }
        guard let upload, uploadDone else {
            await upload?.abort()
            throw Failure.noFilePart
        }
        return Received(upload: upload, fields: fields)
    }

    /// Splits a header at the `;` that are not inside a quoted string (a filename may hold one).
    public static func splitParameters(_ header: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in header {
            if escaped {
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";" && !quoted {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// RFC 2046 §5.1.1: 1 to 70 of `bchars`, not ending in a space.
    public static func isValidBoundary(_ boundary: String) -> Bool {
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8)
        let bytes = Array(boundary.utf8)
        return (1...70).contains(bytes.count) && bytes.allSatisfy(allowed.contains) && bytes.last != UInt8(ascii: " ")
    }

    public static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// `name` and `filename` of a part's `Content-Disposition: form-data; name="…"; filename="…"`.
    public static func parseDisposition(_ header: String) -> (name: String?, filename: String?) {
        var name: String?
        var filename: String?
        var filenameStar: String?
        for parameter in splitParameters(header).dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            switch pair[0].lowercased() {
            case "name": name = value
            case "filename": filename = value
            case "filename*":
                if let mark = value.range(of: "''") { filenameStar = String(value[mark.upperBound...]).removingPercentEncoding }
            default: break
            }
        }
        return (name, filenameStar ?? filename)
    }
}

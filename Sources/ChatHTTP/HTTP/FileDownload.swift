import ChatCore
import HTTPParsing
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Shared
import _NIOFileSystem

/// Builds the answer to `GET`/`HEAD` of a file: validators, conditional requests, ranges, and a
/// body streamed from an open descriptor in blocks, so memory does not grow with the file.
package enum FileDownload {

    package static func response(for request: Request, channel: any Channel, store: FileStore, name: String, headOnly: Bool) async throws -> Response {
        let (file, handle) = try await store.open(named: name)
        var headers: HTTPFields = [
            .contentType: "application/octet-stream",
            .eTag: etag(file),
            .lastModified: Timestamp.httpDate(millis: file.uploadedAtMillis),
            .acceptRanges: "bytes",
            .contentDisposition: contentDisposition(file.name),
            .init("X-Content-Type-Options")!: "nosniff",
        ]
        let range = ranged(request, file: file)
        if notModified(request, file: file) {
            await handle.closeEvenIfCancelled()
            return Response(status: .notModified, headers: headers)
        }
        let status: HTTPResponse.Status
        let bytes: Range<Int64>
        switch range {
        case .full:
            status = .ok
            bytes = 0..<file.size
        case .partial(let closed):
            status = .partialContent
            bytes = closed.lowerBound..<(closed.upperBound + 1)
            headers[.contentRange] = "bytes \(closed.lowerBound)-\(closed.upperBound)/\(file.size)"
        case .unsatisfiable:
            await handle.closeEvenIfCancelled()
            headers[.contentRange] = "bytes */\(file.size)"
            var response = APIError.jsonResponse(status: .rangeNotSatisfiable, code: ErrorCode.rangeNotSatisfiable.rawValue,
                                                 message: "the range lies outside the file's \(file.size) bytes")
            response.headers.append(contentsOf: headers)
            return response
        }
        headers[.contentLength] = String(bytes.count)
        if headOnly || bytes.isEmpty {
            await handle.closeEvenIfCancelled()
            return Response(status: status, headers: headers)
        }
        if let mailbox = FileRegionMailbox.of(channel) {
            let descriptor = try handle.detachUnsafeFileDescriptor()
            let nioHandle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor.rawValue)
            let sent = channel.eventLoop.makePromise(of: Void.self)
            guard let marker = mailbox.post(nioHandle, range: Int(bytes.lowerBound)..<Int(bytes.upperBound), sent: sent) else {
                throw CancellationError()
            }
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: bytes.count) { writer in
                try await writer.write(marker)
                try await sent.futureResult.get()       // the response ends when the file is sent (see post)
                try await writer.finish(nil)
            })
        }
        let body = ResponseBody(contentLength: bytes.count) { writer in
            do {
                try await FileBlocks.forEach(in: handle, range: bytes) { block in
                    try await writer.write(block)
                }
                try await handle.close()
            } catch {
                await handle.closeEvenIfCancelled()
                throw error
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    package static func etag(_ file: StoredFile) -> String {
        "\"\(file.sha256)\""
    }

    /// The range to serve, honouring `If-Range` (serve the range only if the client's copy is
    /// still the current one).
    package static func ranged(_ request: Request, file: StoredFile) -> ByteRangeRequest {
        let range = ByteRangeRequest.evaluate(request.headers[.range], size: file.size)
        guard range != .full, let condition = request.headers[.ifRange] else { return range }
        let matches = condition.hasPrefix("\"") ? condition == etag(file) : condition == Timestamp.httpDate(millis: file.uploadedAtMillis)
        return matches ? range : .full
    }

    package static func notModified(_ request: Request, file: StoredFile) -> Bool {
        guard let header = request.headers[.ifNoneMatch] else { return false }
        let current = etag(file)
        return header.split(separator: ",").contains { tag in
            let tag = tag.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == current || tag == "W/" + current
        }
    }

    /// `attachment` with an ASCII fallback name and the exact name in RFC 5987 form.
    package static func contentDisposition(_ name: String) -> String {
        let fallback = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar != "\"" && scalar != "\\" && scalar.value >= 0x20 ? Character(scalar) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Shared
import _NIOFileSystem

/// chatd's HTTP API (PROTOCOL.md §1, §3) for the terminal client: login, the file area. Uploads
/// and downloads stream between the disk and the socket in blocks, so memory does not grow with
/// the file, and report progress as they go.
struct ChatAPI: Sendable {
    let endpoint: ServerEndpoint
    let client: HTTPClient
    /// The TLS settings of `client`, for the WebSocket to use the same trust; `nil`: defaults.
    var tlsConfiguration: TLSConfiguration?
    /// How long a request without a body may take; transfers are bounded by progress instead.
    var timeout: TimeAmount = .seconds(30)

    /// Called with the bytes moved so far and the total, when known.
    typealias Progress = @Sendable (Int64, Int64?) -> Void

    /// `register: false` (PROTOCOL.md §7.7): an unknown name is not made into an account.
    func login(username: String, password: String, register: Bool) async throws(ChatAPIError) -> LoginResponse {
        var request = HTTPClientRequest(url: endpoint.url("/api/login"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = LoginRequest(username: username, password: password, register: register)
        request.body = .bytes(ByteBuffer(bytes: (try? JSONEncoder().encode(body)) ?? Data()))
        return try await decode(LoginResponse.self, from: execute(request))
    }

    /// Whether the server answers at all (`GET /healthz`, whatever its status): asked before the
    /// password, so that a server that is down says so instead of prompting for nothing.
    func probe() async throws(ChatAPIError) {
        do {
            _ = try await execute(HTTPClientRequest(url: endpoint.url("/healthz")))
        } catch .server {
            return
        }
    }

    /// The account behind a token, or `nil` if the server no longer accepts it.
    func me(token: String) async throws(ChatAPIError) -> String? {
        do {
            return try await decode(MeResponse.self, from: execute(authorized("/api/me", token: token))).username
        } catch .server(401, _, _) {
            return nil
        }
    }

    func files(token: String) async throws(ChatAPIError) -> [Shared.FileInfo] {
        try await decode(FileListResponse.self, from: execute(authorized("/api/files", token: token))).files
    }

    func delete(_ name: String, token: String) async throws(ChatAPIError) {
        var request = authorized("/api/files", segment: name, token: token)
        request.method = .DELETE
        _ = try await execute(request)
    }

    /// Uploads a local file as `name` with `PUT`, streaming it from the disk.
    func upload(_ path: String, as name: String, token: String, progress: Progress? = nil) async throws(ChatAPIError) -> Shared.FileInfo {
        do {
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                let size = try await handle.info().size
                var request = authorized("/api/files", segment: name, token: token)
                request.method = .PUT
                request.headers.add(name: "Content-Type", value: "application/octet-stream")
                let counted = CountedChunks(base: handle.readChunks(chunkLength: .mebibytes(1)), total: size, progress: progress)
                request.body = .stream(counted, length: .known(size))
                return try await decode(Shared.FileInfo.self, from: execute(request, timeout: .hours(24)))
            }
        } catch let error as ChatAPIError {
            throw error
        } catch let error as FileSystemError {
            if error.code == .notFound { throw .local("no such file: \(path)") }
            throw .local("cannot read \(path): \(error.message)")
        } catch let error as NIOSSLError {
            throw tlsFailure(error)
        } catch {
            throw unreachable(error)
        }
    }

    /// Downloads `name` into `destination`, through a temporary file beside it that is renamed
    /// into place only when complete: a broken download leaves the destination as it was.
    /// `-` streams to standard output instead.
    func download(_ name: String, to destination: String, token: String, progress: Progress? = nil) async throws(ChatAPIError) -> Int64 {
        let temporary = destination + ".part-\(UUID().uuidString.prefix(8))"
        do {
            let response = try await client.execute(authorized("/api/files", segment: name, token: token),
                                                               timeout: .hours(24))
            guard response.status == .ok else {
                throw Self.error(status: Int(response.status.code), body: try await response.body.collect(upTo: 1 << 16))
            }
            let total = response.headers.first(name: "Content-Length").flatMap(Int64.init)
            var written: Int64 = 0
            if destination == "-" {
                for try await chunk in response.body {
                    FileHandle.standardOutput.write(Data(chunk.readableBytesView))
                    written += Int64(chunk.readableBytes)
                }
                return written
            }
            try await FileSystem.shared.withFileHandle(
                forWritingAt: FilePath(temporary), options: .newFile(replaceExisting: true)
            ) { handle in
                var writer = handle.bufferedWriter(capacity: .mebibytes(1))
                for try await chunk in response.body {
                    written += Int64(try await writer.write(contentsOf: chunk))
                    progress?(written, total)
                }
                try await writer.flush()
            }
            try await FileSystem.shared.replaceItem(at: FilePath(destination), withItemAt: FilePath(temporary))
            return written
        } catch {
            _ = try? await FileSystem.shared.removeItem(at: FilePath(temporary))
            if let error = error as? ChatAPIError { throw error }
            if let error = error as? FileSystemError { throw .local("cannot write \(destination): \(error.message)") }
            if let error = error as? NIOSSLError { throw tlsFailure(error) }
            throw unreachable(error)
        }
    }

    // MARK: plumbing

    private func authorized(_ path: String, segment: String? = nil, token: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint.url(path, segment: segment))
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        return request
    }

    /// Runs a request and returns the body of a 2xx answer; anything else becomes a ``ChatAPIError``.
    private func execute(_ request: HTTPClientRequest, timeout: TimeAmount? = nil) async throws(ChatAPIError) -> ByteBuffer {
        do {
            let response = try await client.execute(request, timeout: timeout ?? self.timeout)
            let body = try await response.body.collect(upTo: 16 << 20)
            guard (200..<300).contains(Int(response.status.code)) else {
                throw Self.error(status: Int(response.status.code), body: body)
            }
            return body
        } catch let error as ChatAPIError {
            throw error
        } catch let error as FileSystemError {
            throw .local(error.message)
        } catch let error as NIOSSLError {
            throw tlsFailure(error)
        } catch {
            throw unreachable(error)
        }
    }

    /// A TLS failure in words: most often a certificate this client does not trust.
    func tlsFailure(_ error: NIOSSLError) -> ChatAPIError {
        .unreachable("cannot reach \(endpoint.base): TLS handshake failed (\(error)); "
                     + "if the server's certificate comes from a private CA, give it with --ca-file")
    }

    /// A failed connection in the words of `curl` and `ssh`: which server, and why.
    func unreachable(_ error: any Error) -> ChatAPIError {
        .unreachable("cannot reach \(endpoint.base): \(Self.reason(error))")
    }

    /// Why a connection failed, in a few words; the library's own description when unknown.
    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        let lower = text.lowercased()
        if lower.contains("connection refused") || lower.contains("errno: 111") { return "connection refused" }
        if lower.contains("connecttimeout") || lower.contains("timed out") { return "no answer (connection timed out)" }
        if lower.contains("no route to host") { return "no route to host" }
        if lower.contains("network is unreachable") { return "network is unreachable" }
        if lower.contains("dns") || lower.contains("name resolution") || lower.contains("nodename nor servname") {
            return "unknown host"
        }
        if lower.contains("remoteconnectionclosed") || lower.contains("connection reset") {
            return "the connection was closed before an answer"
        }
        return text
    }

    private func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(ChatAPIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            throw .unreachable("unexpected answer from the server: \(error)")
        }
    }

    private static func error(status: Int, body: ByteBuffer) -> ChatAPIError {
        if let decoded = try? JSONDecoder().decode(APIErrorBody.self, from: Data(body.readableBytesView)) {
            return .server(status: status, code: decoded.error.code, message: decoded.error.message)
        }
        return .server(status: status, code: "http_\(status)", message: "the server answered \(status)")
    }
}

/// File chunks on their way to the socket, counted for the progress display.
struct CountedChunks<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let total: Int64
    let progress: ChatAPI.Progress?

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var sent: Int64 = 0
        let total: Int64
        let progress: ChatAPI.Progress?

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            sent += Int64(chunk.readableBytes)
            progress?(sent, total)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), total: total, progress: progress)
    }
}

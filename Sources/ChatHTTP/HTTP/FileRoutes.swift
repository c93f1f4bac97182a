import ChatCore
import HTTPParsing
import Foundation
import Hummingbird
import Shared

/// The file area over HTTP (PROTOCOL.md §3): the `/api/files` routes and the original app's
/// `/files`, `/upload`, `/delete/{name}` and `/files_proxy/{name}`. Every rule is the
/// ``FileStore``'s; this type only translates HTTP to store calls and errors to statuses.
package struct FileRoutes {
    package let store: FileStore
    package let accounts: Accounts
    package let cookie: SessionCookie
    package var metrics = ChatMetrics.disabled

    /// Slack for multipart framing when judging a body's declared length against the size limit.
    package static let multipartOverhead: Int64 = 1 << 20

    package func register(on router: Router<ChatRequestContext>) {
        let api = router.group("api/files").add(middleware: AuthMiddleware(accounts: accounts, cookie: cookie))
        api.get { _, _ in try await list() }
        api.post { request, context in try await multipartUpload(request, context).response }
        api.put(":name") { request, context in try await rawUpload(request, context) }
        api.get(":name") { request, context in try await download(request, context, headOnly: false) }
        api.head(":name") { request, context in try await download(request, context, headOnly: true) }
        api.delete(":name") { request, context in
            _ = try await mapped { try await store.delete(named: try name(context), by: try context.requireIdentity.account) }
            return Response(status: .noContent)
        }

        let legacy = router.group().add(middleware: AuthMiddleware(accounts: accounts, cookie: cookie))
        legacy.get("files") { request, context in
            try checkUsername(request, context, form: [:])
            return try await list()
        }
        legacy.post("upload") { request, context in
            let (_, file) = try await multipartUpload(request, context)
            return try JSONResponse.make(LegacyUploadAnswer(filename: file.name, message: "File '\(file.name)' uploaded successfully"))
        }
        legacy.delete("delete/:name") { request, context in
            try checkUsername(request, context, form: [:])
            let file = try await mapped { try await store.delete(named: try name(context), by: try context.requireIdentity.account) }
            return try JSONResponse.make(LegacyMessage(message: "File '\(file.name)' deleted successfully"))
        }
        legacy.get("files_proxy/:name") { request, context in
            try checkUsername(request, context, form: [:])
            return try await download(request, context, headOnly: false)
        }
        legacy.head("files_proxy/:name") { request, context in
            try checkUsername(request, context, form: [:])
            return try await download(request, context, headOnly: true)
        }
    }

    private func list() async throws -> Response {
        try JSONResponse.make(FileListResponse(files: try await store.list().map(\.wire)))
    }

    /// `PUT /api/files/{name}`: the raw body is the content.
    private func rawUpload(_ request: Request, _ context: ChatRequestContext) async throws -> Response {
        let owner = try context.requireIdentity.account
        let declared = request.headers[.contentLength].flatMap(Int64.init)
        let upload = try await mapped { try await store.beginUpload(name: try name(context), by: owner, declaredSize: declared) }
        do {
            for try await chunk in request.body {
                try await upload.write(chunk)
            }
        } catch {
            await upload.abort()
            if !(error is FileError) {
                // the body stopped coming: the client went, or paused past --http-idle-timeout
                context.logger.notice("upload cut off before its body ended; nothing stored", metadata: [
                    "address": "\(context.clientAddress)", "name": "\(upload.name)", "error": "\(error)",
                ])
            }
            throw Self.apiError(error, context: context)
        }
        let (file, replaced) = try await mapped { try await upload.commit() }
        metrics.uploaded(file.size, via: .http)
        return try JSONResponse.make(file.wire, status: replaced ? .ok : .created)
    }

    /// `POST /api/files` and `POST /upload`: a browser form with a `file` part.
    private func multipartUpload(_ request: Request, _ context: ChatRequestContext) async throws -> (response: Response, file: StoredFile) {
        let owner = try context.requireIdentity.account
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > store.policy.largestBody(framing: Self.multipartOverhead) {
            throw Self.apiError(FileError.tooLarge(limit: store.policy.maxFileSize), context: context)
        }
        let result: MultipartUpload.Received<FileUpload>
        do {
            result = try await MultipartUpload.read(contentType: request.headers[.contentType], body: request.body) { filename, declared in
                try await store.beginUpload(name: filename, by: owner, declaredSize: declared)
            }
        } catch MultipartUpload.Failure.notMultipart {
            throw APIError.badRequest("expected a multipart/form-data body with a 'file' part")
        } catch MultipartUpload.Failure.noFilePart {
            throw APIError.badRequest("the form has no 'file' part with a filename")
        } catch MultipartUpload.Failure.malformed(let reason) {
            throw APIError.badRequest(reason)
        } catch {
            throw Self.apiError(error, context: context)
        }
        do {
            try checkUsername(request, context, form: result.fields)
        } catch {
            await result.upload.abort()
            throw error
        }
        let (file, replaced) = try await mapped { try await result.upload.commit() }
        metrics.uploaded(file.size, via: .http)
        return (try JSONResponse.make(file.wire, status: replaced ? .ok : .created), file)
    }

    private func download(_ request: Request, _ context: ChatRequestContext, headOnly: Bool) async throws -> Response {
        _ = try context.requireIdentity
        let name = try name(context)
        let response = try await mapped {
            try await FileDownload.response(for: request, channel: context.channel, store: store, name: name, headOnly: headOnly)
        }
        if !headOnly, response.status == .ok || response.status == .partialContent, let length = response.body.contentLength {
            metrics.downloaded(Int64(length), via: .http)
        }
        return response
    }

    /// The `{name}` path parameter, percent-decoded. A `/` inside it (`%2F`) is then refused by
    /// the name rules like any other.
    private func name(_ context: ChatRequestContext) throws -> String {
        guard let raw = context.parameters.get("name") else { throw APIError.badRequest("missing file name") }
        guard let decoded = raw.removingPercentEncoding else { throw APIError.badRequest("the file name is not valid percent-encoded UTF-8") }
        return decoded
    }

    /// The original app named the user in a `username` parameter (query or form field); now the
    /// token says who it is, and a different name is refused.
    private func checkUsername(_ request: Request, _ context: ChatRequestContext, form: [String: String]) throws {
        let account = try context.requireIdentity.account
        for claimed in [request.uri.queryParameters["username"].map(String.init), form["username"]].compactMap({ $0 }) {
            guard Username.canonicalKey(claimed) == Username.canonicalKey(account.name) else {
                throw APIError.forbidden("the username '\(claimed)' does not match the logged-in user")
            }
        }
    }

    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.apiError(error, context: nil)
        }
    }

    package static func apiError(_ error: any Error, context: ChatRequestContext?) -> any Error {
        guard let fileError = error as? FileError else { return error }
        if case .storage(let reason) = fileError {
            context?.logger.error("file storage failed", metadata: ["error": "\(reason)"])
        }
        var api = APIError(fileError.protocolError)
        if case .tooLarge = fileError {
            // the rest of the body is not wanted: do not keep the connection for it
            api.headers[.connection] = "close"
        }
        return api
    }

    package init(store: FileStore, accounts: Accounts, cookie: SessionCookie, metrics: ChatMetrics = .disabled) {
        self.cookie = cookie
        self.metrics = metrics
        self.store = store
        self.accounts = accounts
    }
}

package struct LegacyUploadAnswer: Codable {
    package let filename: String
    package let message: String
}

package struct LegacyMessage: Codable {
    package let message: String
}

extension FileInfo: ResponseEncodable {}

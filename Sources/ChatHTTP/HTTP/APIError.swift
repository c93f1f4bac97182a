import ChatCore
import Foundation
import Hummingbird
import NIOCore
import Shared

/// An HTTP API refusal: status, a code from PROTOCOL.md and a message for the person, sent as
/// `{"error": {"code": "...", "message": "..."}}`.
package struct APIError: HTTPResponseError {
    package let status: HTTPResponse.Status
    package let code: ErrorCode
    package let message: String
    package var headers: HTTPFields = [:]

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.jsonResponse(status: status, code: code.rawValue, message: message, headers: headers)
    }

    package static func jsonResponse(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let body = (try? encoder.encode(APIErrorBody(code: code, message: message))) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    package static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: .badRequest, message: message) }
    package static func unauthorized(_ message: String) -> APIError { APIError(status: .unauthorized, code: .unauthorized, message: message) }
    package static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: .forbidden, message: message) }

    package init(status: HTTPResponse.Status, code: ErrorCode, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The status that fits a protocol refusal.
    package init(_ error: ProtocolError) {
        let status: HTTPResponse.Status = switch error.code {
        case .unknownUser, .notFound: .notFound
        case .unauthorized, .noAccount: .unauthorized
        case .forbidden: .forbidden
        case .rateLimited: .tooManyRequests
        case .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .quotaExceeded, .storageFull: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .rangeNotSatisfiable: .rangeNotSatisfiable
        case .internal: .internalServerError
        case .badRequest, .unknownType, .tooLong, .empty: .badRequest
        }
        self.init(status: status, code: error.code, message: error.message)
    }
}

/// Gives every error the API's JSON shape, including the router's own 404 and 405 and
/// Hummingbird's body-decoding failures, so clients parse one format; and logs the bodies it
/// refuses for their size, with the client's address (413 is what a flood of large uploads or
/// oversized JSON meets).
package struct JSONErrorMiddleware: RouterMiddleware {
    package typealias Context = ChatRequestContext

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            if error.status == .contentTooLarge { Self.logTooLarge(request, context: context) }
            throw error
        } catch is NIOTooManyBytesError {
            // a JSON body over ChatRequestContext.maxUploadSize; the rest of it is not wanted
            Self.logTooLarge(request, context: context)
            throw APIError(status: .contentTooLarge, code: .tooLarge,
                           message: "request body over \(context.maxUploadSize / 1024) KiB", headers: [.connection: "close"])
        } catch let error as HTTPError {
            let code = switch error.status {
            case .notFound: ErrorCode.notFound
            case .unauthorized: ErrorCode.unauthorized
            case .forbidden: ErrorCode.forbidden
            case .internalServerError: ErrorCode.internal
            default: ErrorCode.badRequest
            }
            throw APIError(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase, headers: error.headers)
        } catch let error as DecodingError {
            throw APIError.badRequest("request body is not the expected JSON: \(Self.describe(error))")
        }
    }

    private static func logTooLarge(_ request: Request, context: Context) {
        context.logger.notice("request body too large; answering 413", metadata: [
            "address": "\(context.clientAddress)", "method": "\(request.method)", "path": "\(request.uri.path)",
            "declared": "\(request.headers[.contentLength] ?? "none (chunked)")",
        ])
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type for '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .dataCorrupted: "malformed JSON"
        @unknown default: "malformed JSON"
        }
    }

    package init() {
    }
}

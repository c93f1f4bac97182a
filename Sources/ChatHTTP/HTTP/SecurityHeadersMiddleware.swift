import ChatCore
import Hummingbird
import NIOHTTP1
import Shared

/// Puts ``SecurityHeaders`` on every response the router gives, errors included, and
/// `Cache-Control: no-store` on JSON (tokens, messages and user lists have no business in a
/// disk cache).
///
/// The outermost middleware but metrics, so it sees the final form of every answer: an error
/// thrown by a route or by another middleware is turned into its response here, where the
/// headers can still be added. An error that is not an HTTP answer (a bug) becomes a logged
/// JSON 500 instead of Hummingbird's empty one, which it logs only at debug level.
package struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPParserError {
            // Hummingbird answers these itself, and closes the connection
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = APIError.jsonResponse(status: .internalServerError, code: ErrorCode.internal.rawValue, message: "internal error")
        }
        SecurityHeaders.add(SecurityHeaders.forNonHTML, to: &response.headers)
        if response.headers[.contentType]?.hasPrefix("application/json") == true, response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
        }
        return response
    }

    package init() {
    }
}

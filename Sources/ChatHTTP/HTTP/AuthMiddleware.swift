import ChatCore
import Hummingbird

/// Requires a valid token (bearer or cookie) and, for cookie-authenticated requests that change
/// state, a same-origin `Origin` or `Referer` (CSRF, PROTOCOL.md §1).
package struct AuthMiddleware: RouterMiddleware {
    package typealias Context = ChatRequestContext
    package let accounts: Accounts
    /// Sent again when a cookie-authenticated request moved the token's end.
    package let cookie: SessionCookie

    package init(accounts: Accounts, cookie: SessionCookie) {
        self.accounts = accounts
        self.cookie = cookie
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = PresentedToken.find(in: request.headers, query: nil, allowQuery: false) else {
            throw APIError.unauthorized("authentication required: send 'Authorization: Bearer <token>' or log in")
        }
        guard let identity = try await accounts.authenticate(token: presented.token) else {
            throw APIError.unauthorized("the token is invalid, expired or logged out")
        }
        if presented.source == .cookie, Self.changesState(request.method) {
            switch OriginPolicy.check(request.headers, authority: request.head.authority) {
            case .sameOrigin: break
            case .absent: throw APIError.forbidden("cross-site request refused: Origin or Referer header required")
            case .foreign(let origin): throw APIError.forbidden("cross-site request refused: origin \(origin) is not this server")
            }
        }
        var context = context
        context.identity = identity
        var response = try await next(request, context)
        if presented.source == .cookie, identity.extended, response.headers[.setCookie] == nil {
            response.headers[.setCookie] = cookie.set(presented.token)
        }
        return response
    }

    package static func changesState(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }
}

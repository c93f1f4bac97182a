import ChatCore
import HTTPTypes

/// Where a request's token came from, which decides whether it must also pass the Origin check:
/// a browser attaches cookies to cross-site requests on its own, but never a bearer token.
package struct PresentedToken: Sendable, Equatable {
    package enum Source: Sendable, Equatable { case bearer, cookie, query }
    package let token: String
    package let source: Source

    package static let cookieName = "chat_session"

    /// The token of a request: `Authorization: Bearer`, then the `chat_session` cookie, then (only
    /// where allowed: the WebSocket upgrade) a `token` query parameter.
    package static func find(in headers: HTTPFields, query: String?, allowQuery: Bool) -> PresentedToken? {
        if let authorization = headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return PresentedToken(token: String(parts[1]).trimmingCharacters(in: .whitespaces), source: .bearer)
            }
        }
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(cookieName + "=") {
                    return PresentedToken(token: String(trimmed.dropFirst(cookieName.count + 1)), source: .cookie)
                }
            }
        }
        if allowQuery, let query {
            for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
                let value = String(pair.dropFirst(6))
                return PresentedToken(token: value.removingPercentEncoding ?? value, source: .query)
            }
        }
        return nil
    }
}

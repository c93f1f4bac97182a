import ChatCore
import Foundation
import HTTPTypes

/// The same-origin test behind the CSRF and cross-site WebSocket checks (PROTOCOL.md §1): a
/// request's `Origin` (or, lacking one, its `Referer`) must name the host the request was sent to.
package enum OriginPolicy {
    package enum Verdict: Equatable {
        case sameOrigin
        case foreign(String)
        case absent
    }

    package static func check(_ headers: HTTPFields, authority: String?) -> Verdict {
        guard let claimed = headers[.origin] ?? headers[.referer] else { return .absent }
        guard let host = authority?.lowercased(), let components = URLComponents(string: claimed),
              let scheme = components.scheme?.lowercased(), let originHost = components.host?.lowercased() else {
            return .foreign(claimed)
        }
        let defaultPort = scheme == "https" || scheme == "wss" ? 443 : 80
        let port = components.port ?? defaultPort
        let bracketed = originHost.contains(":") ? "[\(originHost)]" : originHost
        let candidates = port == defaultPort ? ["\(bracketed):\(port)", bracketed] : ["\(bracketed):\(port)"]
        return candidates.contains(host) ? .sameOrigin : .foreign(claimed)
    }
}

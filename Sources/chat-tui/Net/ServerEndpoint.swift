import Foundation

/// Where chatd answers: the `--server` URL, checked once, with the URLs of the API and the
/// WebSocket derived from it.
struct ServerEndpoint: Sendable, Equatable {
    /// `http` or `https`.
    let scheme: String
    let host: String
    let port: Int

    struct InvalidServer: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads `http://host[:port]` or `https://host[:port]`; a bare `host:port` means http.
    init(_ text: String) throws {
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
              ["http", "https"].contains(scheme), var host = components.host, !host.isEmpty else {
            throw InvalidServer(description: "--server: expected a URL such as http://127.0.0.1:8010, got '\(text)'")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw InvalidServer(description: "--server: give only the scheme, host and port, got '\(text)'")
        }
        // Kept without the brackets of a URL's IPv6 literal; `hostForURL` puts them back.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // The WebSocket library sends the host as the TLS server name (SNI), which may not be an
        // IP address; certificates name hosts anyway.
        if scheme == "https", Self.isIPAddress(host) {
            throw InvalidServer(description: "--server: https needs the host name the certificate was issued for, not the address \(host)")
        }
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
    }

    /// `scheme://host:port`, IPv6 hosts in brackets.
    var base: String {
        "\(scheme)://\(hostForURL):\(port)"
    }

    /// The WebSocket URL with the token as a query parameter (PROTOCOL.md §1).
    func webSocketURL(token: String) -> String {
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? token
        return "\(scheme == "https" ? "wss" : "ws")://\(hostForURL):\(port)/ws?token=\(encoded)"
    }

    /// The URL of an API path; `segments` are percent-encoded as path segments (file names).
    func url(_ path: String, segment: String? = nil) -> String {
        guard let segment else { return base + path }
        return base + path + "/" + Self.encodePathSegment(segment)
    }

    /// A name for files that belong to this server, such as the token cache.
    var cacheKey: String {
        "\(scheme)_\(host)_\(port)".map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" ? $0 : "_" }
            .reduce(into: "") { $0.append($1) }
    }

    private var hostForURL: String {
        host.contains(":") ? "[\(host)]" : host
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func encodePathSegment(_ segment: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%;")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }
}

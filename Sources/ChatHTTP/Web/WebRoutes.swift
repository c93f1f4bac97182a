import ChatCore
import HTTPTypes
import Hummingbird

/// Serves the browser UI: `GET /` is the page, `GET /assets/…` its files. Public, like
/// `/healthz`: the page logs in through the API and holds no secret.
package struct WebRoutes {
    package let assets: WebAssets

    /// Scripts and styles only from this server, no inline script, no `eval`, no plugins, no
    /// framing; the WebSocket and the API on this origin only.
    package static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
        "connect-src 'self'", "font-src 'self'", "manifest-src 'self'", "base-uri 'none'",
        "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    package func register(on router: Router<ChatRequestContext>) {
        router.get("/") { request, _ in serve("index.html", request) }
        router.head("/") { request, _ in serve("index.html", request) }
        router.get("assets/**") { request, context in
            serve(context.parameters.getCatchAll().joined(separator: "/"), request)
        }
    }

    private func serve(_ name: String, _ request: Request) -> Response {
        if assets.assets.isEmpty {
            return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "The web UI is not installed: put chatd_chatd.resources next to the chatd binary.\n")))
        }
        guard let asset = assets.assets[name] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            // Revalidate every time: an update of chatd must reach the browser at once, and the
            // answer to a matching ETag is an empty 304.
            .cacheControl: "no-cache",
        ]
        SecurityHeaders.add(SecurityHeaders.forBrowserUI, to: &headers)
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentLength] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.bytes))
    }

    package init(assets: WebAssets) {
        self.assets = assets
    }
}

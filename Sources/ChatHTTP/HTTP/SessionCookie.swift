import ChatCore

/// The browser's login cookie (`chat_session`): HttpOnly, SameSite=Strict, `Secure` under TLS,
/// living as long as the token. A token's end slides with use (``TokenLifetime``); the cookie is
/// sent again whenever the server moves the end, so a browser used every day is not signed out
/// when the cookie set at login runs out.
package struct SessionCookie: Sendable {
    package let lifetime: TokenLifetime
    /// Whether the listener speaks TLS, which adds `Secure`.
    package let secure: Bool

    package init(lifetime: TokenLifetime, secure: Bool) {
        self.lifetime = lifetime
        self.secure = secure
    }

    /// `Set-Cookie` for a token that lives a whole lifetime from now.
    package func set(_ token: String) -> String {
        attributes("\(PresentedToken.cookieName)=\(token)", maxAge: lifetime.millis / 1000)
    }

    /// `Set-Cookie` that makes the browser forget the cookie (logout).
    package func cleared() -> String {
        attributes("\(PresentedToken.cookieName)=", maxAge: 0)
    }

    private func attributes(_ pair: String, maxAge: Int64) -> String {
        "\(pair); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(maxAge)" + (secure ? "; Secure" : "")
    }
}

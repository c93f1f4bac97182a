import ChatCore
import HTTPTypes

/// The response headers that tell a browser how little it may do with what chatd sends.
///
/// Only `/` and `/assets/…` are meant to be rendered, under the browser UI's own policy
/// (``WebRoutes/contentSecurityPolicy``). Everything else (JSON, file downloads, errors) gets a
/// policy that allows nothing at all, so that a response a browser is tricked into opening as a
/// page (a downloaded HTML file, an error echoing a name) can run no script, load nothing and be
/// framed by no one; `nosniff` keeps the declared type authoritative, and
/// `Cross-Origin-Resource-Policy` keeps other sites from embedding responses with `<img>` or
/// `<script>`.
package enum SecurityHeaders {
    package static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    package static let frameOptions = HTTPField.Name("X-Frame-Options")!
    package static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
    package static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!

    /// For everything that is not the browser UI.
    package static let nonHTMLContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    /// What every response carries, the browser UI's files with their own policy instead.
    package static let common: [(HTTPField.Name, String)] = [
        (.xContentTypeOptions, "nosniff"),
        (referrerPolicy, "no-referrer"),
        (frameOptions, "DENY"),
        (crossOriginResourcePolicy, "same-origin"),
    ]

    /// The headers of a response that is not the browser UI.
    package static let forNonHTML: [(HTTPField.Name, String)] = [(.contentSecurityPolicy, nonHTMLContentSecurityPolicy)] + common

    /// The headers of the browser UI's page and files: its policy, and no other page may keep
    /// a handle on its window.
    package static let forBrowserUI: [(HTTPField.Name, String)] =
        [(.contentSecurityPolicy, WebRoutes.contentSecurityPolicy), (crossOriginOpenerPolicy, "same-origin")] + common

    /// Adds the headers `fields` does not have yet: a route that set one (the browser UI's
    /// policy) keeps its own.
    package static func add(_ headers: [(HTTPField.Name, String)], to fields: inout HTTPFields) {
        for (name, value) in headers where fields[name] == nil {
            fields[name] = value
        }
    }
}

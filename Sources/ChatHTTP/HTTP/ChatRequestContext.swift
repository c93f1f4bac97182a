import ChatCore
import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage, the channel (for the client's address),
/// and, once ``AuthMiddleware`` has run, who is asking.
package struct ChatRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let channel: any Channel
    package var identity: Accounts.Identity?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// JSON bodies of this API are small; anything bigger than this is refused with 413.
    package var maxUploadSize: Int { 64 * 1024 }

    /// The client's IP address, for per-address login lockout.
    package var clientAddress: String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The authenticated account; only call behind ``AuthMiddleware``.
    package var requireIdentity: Accounts.Identity {
        get throws {
            guard let identity else { throw APIError.unauthorized("authentication required") }
            return identity
        }
    }
}

import Shared

/// A message accepted from a client, not yet stored.
package struct MessageDraft: Sendable {
    package let sender: Account
    /// `nil` for the broadcast channel.
    package let recipient: Account?
    package let body: String
    /// The sender's `client_id`, echoed to the sender's own sessions only.
    package let clientID: String?
}

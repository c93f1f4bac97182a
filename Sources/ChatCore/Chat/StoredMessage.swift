import Shared

/// A message as committed to the database, with its id.
package struct StoredMessage: Sendable {
    package let id: Int64
    package let sender: Account
    package let recipient: Account?
    package let body: String
    package let createdAtMillis: Int64
    /// The sender's `client_id`, echoed to the sender's own sessions only.
    package let clientID: String?

    package func wire(clientID: String? = nil) -> ChatMessage {
        ChatMessage(id: id, from: sender.name, to: recipient?.name, message: body,
                    ts: Timestamp.rfc3339(millis: createdAtMillis), clientID: clientID)
    }

    package init(id: Int64, sender: Account, recipient: Account?, body: String, createdAtMillis: Int64, clientID: String?) {
        self.id = id
        self.sender = sender
        self.recipient = recipient
        self.body = body
        self.createdAtMillis = createdAtMillis
        self.clientID = clientID
    }
}

/// The message of the status line: what the last action came to, or an error from the server.
struct StatusMessage: Equatable, Sendable {
    enum Kind: Equatable, Sendable { case info, error }
    var kind: Kind
    var text: String

    static func info(_ text: String) -> StatusMessage { StatusMessage(kind: .info, text: text) }
    static func error(_ text: String) -> StatusMessage { StatusMessage(kind: .error, text: text) }
}

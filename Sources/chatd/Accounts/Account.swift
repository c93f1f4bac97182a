/// An account as the rest of the server sees it: its row id and the spelling used at registration.
struct Account: Sendable, Hashable {
    let id: Int64
    let name: String
}

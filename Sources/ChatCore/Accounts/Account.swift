/// An account as the rest of the server sees it: its row id and the spelling used at registration.
package struct Account: Sendable, Hashable {
    package let id: Int64
    package let name: String

    package init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }
}

import Shared

/// Every account and whether it is online, in the users pane's order (online first, then by name
/// ignoring case), with the pane's selection. The selection is a name, not a row, so it stays on
/// the same person when someone else comes online and the rows move.
struct UserList: Sendable {
    private(set) var users: [UserPresence] = []
    private(set) var selectedName: String?

    var names: [String] { users.map(\.name) }
    var onlineCount: Int { users.count(where: \.online) }

    var selectedIndex: Int? {
        guard let selectedName else { return nil }
        return index(of: selectedName)
    }

    func index(of name: String) -> Int? {
        let key = Username.canonicalKey(name)
        return users.firstIndex { Username.canonicalKey($0.name) == key }
    }

    /// The account with this name, in the server's spelling.
    func find(_ name: String) -> UserPresence? {
        index(of: name).map { users[$0] }
    }

    mutating func replace(with users: [UserPresence]) {
        self.users = users
        sort()
        if let selectedName, index(of: selectedName) == nil { self.selectedName = nil }
    }

    /// A join or leave. A user unknown so far has just registered: they are added.
    mutating func setOnline(_ name: String, _ online: Bool) {
        if let index = index(of: name) {
            users[index].online = online
        } else {
            users.append(UserPresence(name: name, online: online))
        }
        sort()
    }

    /// Moves the selection by `delta` rows, clamped. Without a selection, Up starts from the last
    /// row and anything else from the first.
    mutating func moveSelection(by delta: Int) {
        guard !users.isEmpty else { return }
        guard let current = selectedIndex else {
            selectedName = users[delta < 0 ? users.count - 1 : 0].name
            return
        }
        selectedName = users[min(users.count - 1, max(0, current + delta))].name
    }

    private mutating func sort() {
        users.sort { a, b in
            if a.online != b.online { return a.online }
            let (ka, kb) = (Username.canonicalKey(a.name), Username.canonicalKey(b.name))
            return ka != kb ? ka < kb : a.name < b.name
        }
    }
}

/// Lines the user sent, for Up/Down recall like a shell. Browsing starts from the newest entry and
/// keeps the line that was being typed, so going back Down past the newest entry restores it.
struct InputHistory: Equatable, Sendable {
    var limit = 200
    private(set) var entries: [String] = []
    /// The entry shown while browsing; `nil` when editing a fresh line.
    private(set) var position: Int?
    /// The line that was being edited when browsing began.
    private(set) var draft = ""

    /// A line was sent. Repeating the previous line does not add it twice.
    mutating func record(_ line: String) {
        position = nil
        draft = ""
        guard !line.isEmpty, entries.last != line else { return }
        entries.append(line)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
    }

    /// The older entry to show, or `nil` at the oldest one.
    mutating func previous(editing current: String) -> String? {
        guard !entries.isEmpty else { return nil }
        switch position {
        case nil:
            draft = current
            position = entries.count - 1
        case 0?:
            return nil
        case let index?:
            position = index - 1
        }
        return entries[position!]
    }

    /// The newer entry to show, the saved draft after the newest, or `nil` when not browsing.
    mutating func next() -> String? {
        guard let index = position else { return nil }
        if index + 1 < entries.count {
            position = index + 1
            return entries[index + 1]
        }
        position = nil
        defer { draft = "" }
        return draft
    }
}

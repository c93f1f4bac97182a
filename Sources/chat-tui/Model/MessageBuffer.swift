import Shared

/// The messages of one chat that the client holds: ordered by id and never holding one id twice,
/// whichever way they came (live, first load, reconnect catch-up, scrollback). Ids are unique and
/// increasing server-wide (PROTOCOL.md §2), so the id alone decides both order and identity.
struct MessageBuffer: Sendable {
    private(set) var messages: [ChatMessage] = []
    private var ids: Set<Int64> = []

    var count: Int { messages.count }
    var isEmpty: Bool { messages.isEmpty }
    var oldestID: Int64? { messages.first?.id }
    var newestID: Int64? { messages.last?.id }

    /// Adds the messages not already held and returns them, oldest first.
    @discardableResult
    mutating func insert(_ new: [ChatMessage]) -> [ChatMessage] {
        var added: [ChatMessage] = []
        for message in new where !ids.contains(message.id) {
            ids.insert(message.id)
            added.append(message)
        }
        guard !added.isEmpty else { return [] }
        added.sort { $0.id < $1.id }
        if let newest = newestID, added[0].id < newest {
            messages.append(contentsOf: added)
            messages.sort { $0.id < $1.id }
        } else {
            messages.append(contentsOf: added)
        }
        return added
    }

    /// Drops the oldest messages beyond `limit`. Returns whether any were dropped.
    @discardableResult
    mutating func trim(keepingNewest limit: Int) -> Bool {
        guard messages.count > limit else { return false }
        let dropped = messages.count - limit
        for message in messages[0..<dropped] { ids.remove(message.id) }
        messages.removeFirst(dropped)
        return true
    }

    /// Drops every message with an id below `id`.
    mutating func removeAll(below id: Int64) {
        let dropped = messages.prefix { $0.id < id }
        guard !dropped.isEmpty else { return }
        for message in dropped { ids.remove(message.id) }
        messages.removeFirst(dropped.count)
    }
}

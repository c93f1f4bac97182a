import Shared

/// Messages and read markers, as every backend stores them.
package protocol MessageStore: Sendable {
    /// Stores a batch in one transaction and returns it with its ids, in the order of `drafts`.
    /// Ids increase in commit order (how each backend guarantees it is said where it does), which
    /// is what lets every node deliver each chat in id order.
    func insert(_ drafts: [MessageDraft], nowMillis: Int64) async throws -> [StoredMessage]

    /// Up to `limit` messages of `conversation` with ids below `before`, newest first.
    func newestFirst(_ conversation: Conversation, before: Int64?, limit: Int) async throws -> [ChatMessage]

    /// What a `welcome` needs, in one read: the unread counts (PROTOCOL.md §2: messages above the
    /// user's marker, not their own; chats with none left out), the newest id the account can
    /// see, and the accounts table's version.
    func welcomeCounts(for account: Account) async throws -> (unread: [String: Int], lastID: Int64, accounts: AccountRoster.Version)

    /// Moves a read marker forward; a lower value than the stored one is ignored (PROTOCOL.md §6).
    /// Returns the stored marker if it moved, `nil` if it did not. Values beyond the newest message
    /// are clamped to it, so that a marker can never swallow messages not yet written.
    func markRead(account: Account, chatID: Int64, upTo: Int64) async throws -> Int64?
}

extension MessageStore {
    /// Up to `limit` messages of `conversation` older than `before`, oldest first, and whether
    /// older ones exist. The answer is cut short (with `hasMore`) if it would pass `maxBytes`.
    package func history(_ conversation: Conversation, before: Int64?, limit: Int, maxBytes: Int) async throws -> (messages: [ChatMessage], hasMore: Bool) {
        let rows = try await newestFirst(conversation, before: before, limit: limit + 1)
        var hasMore = rows.count > limit
        var newestFirst: [ChatMessage] = []
        var bytes = 0
        for message in rows.prefix(limit) {
            // a generous estimate of the encoded size: JSON escapes at most multiply text by 6
            bytes += 160 + message.from.utf8.count + (message.to?.utf8.count ?? 0) + message.message.utf8.count * 2
            if bytes > maxBytes && !newestFirst.isEmpty {
                hasMore = true
                break
            }
            newestFirst.append(message)
        }
        return (newestFirst.reversed(), hasMore)
    }
}

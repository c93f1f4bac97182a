import ChatCore
import GRDB
import Shared

/// ``MessageStore`` in the embedded SQLite database.
package struct SQLiteMessageStore: MessageStore {
    package let database: SQLiteDatabase

    /// One transaction for the batch: one fsync for the whole group. Ids come from SQLite and
    /// increase in the order of `drafts`; SQLite has one writer, so they also increase in commit order.
    package func insert(_ drafts: [MessageDraft], nowMillis: Int64) async throws -> [StoredMessage] {
        try await database.pool.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO messages (sender_id, sender_name, recipient_id, recipient_name, conv_lo, conv_hi, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            return try drafts.map { draft in
                let (lo, hi) = Conversation.pair(draft.sender.id, draft.recipient?.id)
                try statement.execute(arguments: [
                    draft.sender.id, draft.sender.name, draft.recipient?.id, draft.recipient?.name, lo, hi, draft.body, nowMillis,
                ])
                return StoredMessage(id: db.lastInsertedRowID, sender: draft.sender, recipient: draft.recipient,
                                     body: draft.body, createdAtMillis: nowMillis, clientID: draft.clientID)
            }
        }
    }

    package func newestFirst(_ conversation: Conversation, before: Int64?, limit: Int) async throws -> [ChatMessage] {
        let (lo, hi) = conversation.pair
        // mapped inside the closure (rows are not Sendable) so that this is the async `read`:
        // see SQLiteAccountStore.account(tokenHash:)
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, sender_name, recipient_name, body, created_at FROM messages
                WHERE conv_lo = ? AND conv_hi = ? AND id < ? ORDER BY id DESC LIMIT ?
                """, arguments: [lo, hi, before ?? Int64.max, limit])
                .map { row in
                    ChatMessage(id: row["id"], from: row["sender_name"], to: row["recipient_name"], message: row["body"],
                                ts: Timestamp.rfc3339(millis: row["created_at"]))
                }
        }
    }

    package func welcomeCounts(for account: Account) async throws -> (unread: [String: Int], lastID: Int64, accounts: AccountRoster.Version) {
        try await database.pool.read { db in
            (try Self.unreadCounts(db, account: account), try Self.lastVisibleID(db, account: account),
             try SQLiteAccountStore.rosterVersion(db))
        }
    }

    /// Unread counts per chat (PROTOCOL.md §2): messages above the user's marker, not their own.
    /// Chats with no unread message are left out.
    private static func unreadCounts(_ db: Database, account: Account) throws -> [String: Int] {
        let base = try Int64.fetchOne(db, sql: "SELECT read_base FROM accounts WHERE id = ?", arguments: [account.id]) ?? 0
        var counts: [String: Int] = [:]
        let broadcast = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM messages
            WHERE conv_lo = 0 AND conv_hi = 0 AND sender_id != ?
              AND id > COALESCE((SELECT up_to FROM read_markers WHERE account_id = ? AND chat_id = 0), ?)
            """, arguments: [account.id, account.id, base]) ?? 0
        if broadcast > 0 {
            counts[ChatRef.broadcastName] = broadcast
        }
        let direct = try Row.fetchAll(db, sql: """
            SELECT a.name AS name, COUNT(*) AS unread FROM messages m JOIN accounts a ON a.id = m.sender_id
            WHERE m.recipient_id = ? AND m.sender_id != ?
              AND m.id > COALESCE((SELECT up_to FROM read_markers WHERE account_id = ? AND chat_id = m.sender_id), ?)
            GROUP BY m.sender_id
            """, arguments: [account.id, account.id, account.id, base])
        for row in direct {
            counts[row["name"]] = row["unread"]
        }
        return counts
    }

    /// The newest message id this account can see: broadcast, or direct to or from it.
    private static func lastVisibleID(_ db: Database, account: Account) throws -> Int64 {
        try Int64.fetchOne(db, sql: """
            SELECT MAX(COALESCE((SELECT MAX(id) FROM messages WHERE conv_lo = 0 AND conv_hi = 0), 0),
                       COALESCE((SELECT MAX(id) FROM messages WHERE recipient_id = ?), 0),
                       COALESCE((SELECT MAX(id) FROM messages WHERE sender_id = ? AND recipient_id IS NOT NULL), 0))
            """, arguments: [account.id, account.id]) ?? 0
    }

    package func markRead(account: Account, chatID: Int64, upTo: Int64) async throws -> Int64? {
        try await database.pool.write { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM messages") ?? 0
            let target = min(upTo, newest)
            let current = try Int64.fetchOne(db, sql: """
                SELECT COALESCE((SELECT up_to FROM read_markers WHERE account_id = ? AND chat_id = ?),
                                (SELECT read_base FROM accounts WHERE id = ?))
                """, arguments: [account.id, chatID, account.id]) ?? 0
            if current >= target {
                return nil
            }
            try db.execute(sql: """
                INSERT INTO read_markers (account_id, chat_id, up_to) VALUES (?, ?, ?)
                ON CONFLICT (account_id, chat_id) DO UPDATE SET up_to = excluded.up_to
                """, arguments: [account.id, chatID, target])
            return target
        }
    }

    package init(database: SQLiteDatabase) {
        self.database = database
    }
}

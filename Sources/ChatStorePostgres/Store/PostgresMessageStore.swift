import ChatCore
import PostgresNIO
import Shared

/// ``MessageStore`` in the PostgreSQL database cluster nodes share.
///
/// **Order.** Nodes insert concurrently, and a sequence hands out ids in the order transactions
/// *ask*, not the order they *commit*: a reader that saw id 12 committed could later find 11
/// appear. So every insert first takes ``PostgresDatabase/Lock/messages`` and holds it until it
/// commits: ids are then handed out and made visible in one order, and "every message with an id
/// above the last one delivered" (``messages(after:limit:)``) never skips one that commits later.
/// The lock is held for one batch's insert, so group commit keeps its cost at one lock per batch
/// per node.
package struct PostgresMessageStore: MessageStore, CommittedMessages {
    package let database: PostgresDatabase

    private var client: PostgresClient { database.client }
    private var logger: Logger { database.logger }

    package func insert(_ drafts: [MessageDraft], nowMillis: Int64) async throws -> [StoredMessage] {
        guard !drafts.isEmpty else { return [] }
        let logger = logger
        let senders = drafts.map(\.sender.id), senderNames = drafts.map(\.sender.name)
        let recipients = drafts.map { $0.recipient?.id ?? 0 }, recipientNames = drafts.map { $0.recipient?.name ?? "" }
        let conversations = drafts.map { draft in
            Conversation.pair(draft.sender.id, draft.recipient?.id)
        }
        let lows = conversations.map(\.0), highs = conversations.map(\.1)
        let bodies = drafts.map(\.body)
        let hasClientID = drafts.map { $0.clientID != nil }, clientIDs = drafts.map { $0.clientID ?? "" }
        let ids: [Int64] = try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresDatabase.Lock.messages.rawValue))", logger: logger)
            // account ids start at 1, so 0 and '' stand for "no recipient" in the arrays
            let rows = try await connection.query("""
                INSERT INTO messages (sender_id, sender_name, recipient_id, recipient_name, conv_lo, conv_hi, body, created_at, client_id)
                SELECT s, sn, NULLIF(r, 0), NULLIF(rn, ''), lo, hi, b, \(nowMillis), CASE WHEN hc THEN c END
                FROM unnest(\(senders)::bigint[], \(senderNames)::text[], \(recipients)::bigint[], \(recipientNames)::text[],
                            \(lows)::bigint[], \(highs)::bigint[], \(bodies)::text[], \(hasClientID)::bool[], \(clientIDs)::text[])
                     WITH ORDINALITY AS t(s, sn, r, rn, lo, hi, b, hc, c, ord)
                ORDER BY ord
                RETURNING id
                """, logger: logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            // in the transaction: every node hears of the batch when (and only if) it commits
            try await connection.query(ClusterEvent.messages(upTo: ids.max() ?? 0).notification, logger: logger)
            return ids
        }
        guard ids.count == drafts.count else { throw PostgresStoreError.noRow("INSERT INTO messages (\(ids.count) of \(drafts.count))") }
        // The rows were inserted in `ord` order under the lock, so their ids rise in that order.
        return zip(ids.sorted(), drafts).map { id, draft in
            StoredMessage(id: id, sender: draft.sender, recipient: draft.recipient, body: draft.body, createdAtMillis: nowMillis,
                          clientID: draft.clientID)
        }
    }

    /// Committed messages with ids above `id`, oldest first: what a node has not delivered yet.
    package func messages(after id: Int64, limit: Int) async throws -> [StoredMessage] {
        let rows = try await client.query("""
            SELECT id, sender_id, sender_name, recipient_id, recipient_name, body, created_at, client_id
            FROM messages WHERE id > \(id) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var messages: [StoredMessage] = []
        for try await (id, senderID, senderName, recipientID, recipientName, body, created, clientID)
            in rows.decode((Int64, Int64, String, Int64?, String?, String, Int64, String?).self) {
            let recipient = recipientID.map { Account(id: $0, name: recipientName ?? "") }
            messages.append(StoredMessage(id: id, sender: Account(id: senderID, name: senderName), recipient: recipient, body: body,
                                          createdAtMillis: created, clientID: clientID))
        }
        return messages
    }

    /// The newest committed message id (where a starting node's delivery begins).
    package func newestID() async throws -> Int64 {
        for try await id in try await client.query("SELECT COALESCE(MAX(id), 0) FROM messages", logger: logger).decode(Int64.self) {
            return id
        }
        return 0
    }

    package func newestFirst(_ conversation: Conversation, before: Int64?, limit: Int) async throws -> [ChatMessage] {
        let (lo, hi) = conversation.pair
        let rows = try await client.query("""
            SELECT id, sender_name, recipient_name, body, created_at FROM messages
            WHERE conv_lo = \(lo) AND conv_hi = \(hi) AND id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var messages: [ChatMessage] = []
        for try await (id, from, to, body, created) in rows.decode((Int64, String, String?, String, Int64).self) {
            messages.append(ChatMessage(id: id, from: from, to: to, message: body, ts: Timestamp.rfc3339(millis: created)))
        }
        return messages
    }

    package func welcomeCounts(for account: Account) async throws -> (unread: [String: Int], lastID: Int64, accounts: AccountRoster.Version) {
        let logger = logger
        return try await database.transaction { connection in
            // one snapshot for the three reads, as SQLite's read transaction gives
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var counts: [String: Int] = [:]
            let unread = try await connection.query("""
                WITH base AS (SELECT read_base FROM accounts WHERE id = \(account.id))
                SELECT '', COUNT(*) FROM messages
                WHERE conv_lo = 0 AND conv_hi = 0 AND sender_id != \(account.id)
                  AND id > COALESCE((SELECT up_to FROM read_markers WHERE account_id = \(account.id) AND chat_id = 0),
                                    (SELECT read_base FROM base), 0)
                UNION ALL
                SELECT a.name, COUNT(*) FROM messages m JOIN accounts a ON a.id = m.sender_id
                WHERE m.recipient_id = \(account.id) AND m.sender_id != \(account.id)
                  AND m.id > COALESCE((SELECT up_to FROM read_markers WHERE account_id = \(account.id) AND chat_id = m.sender_id),
                                      (SELECT read_base FROM base), 0)
                GROUP BY a.name
                """, logger: logger)
            for try await (name, count) in unread.decode((String, Int64).self) where count > 0 {
                counts[name.isEmpty ? ChatRef.broadcastName : name] = Int(count)
            }
            var lastID: Int64 = 0
            let newest = try await connection.query("""
                SELECT GREATEST(COALESCE((SELECT MAX(id) FROM messages WHERE conv_lo = 0 AND conv_hi = 0), 0),
                                COALESCE((SELECT MAX(id) FROM messages WHERE recipient_id = \(account.id)), 0),
                                COALESCE((SELECT MAX(id) FROM messages WHERE sender_id = \(account.id) AND recipient_id IS NOT NULL), 0))
                """, logger: logger)
            for try await id in newest.decode(Int64.self) { lastID = id }
            let version = try await PostgresAccountStore.rosterVersion(
                connection.query("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM accounts", logger: logger))
            return (counts, lastID, version)
        }
    }

    package func markRead(account: Account, chatID: Int64, upTo: Int64) async throws -> Int64? {
        let rows = try await client.query("""
            WITH target AS (SELECT LEAST(\(upTo), (SELECT COALESCE(MAX(id), 0) FROM messages)) AS up_to),
                 current AS (SELECT COALESCE((SELECT up_to FROM read_markers WHERE account_id = \(account.id) AND chat_id = \(chatID)),
                                             (SELECT read_base FROM accounts WHERE id = \(account.id)), 0) AS up_to)
            INSERT INTO read_markers (account_id, chat_id, up_to)
            SELECT \(account.id), \(chatID), target.up_to FROM target, current WHERE target.up_to > current.up_to
            ON CONFLICT (account_id, chat_id) DO UPDATE SET up_to = excluded.up_to WHERE read_markers.up_to < excluded.up_to
            RETURNING up_to
            """, logger: logger)
        for try await marker in rows.decode(Int64.self) {
            return marker
        }
        return nil
    }

    package init(database: PostgresDatabase) {
        self.database = database
    }
}

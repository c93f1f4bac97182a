import ChatCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Presence across cluster nodes: an account is online while any node has a session of it.
///
/// Each node keeps a `presence` row per account it has sessions of, and a `nodes` row it
/// refreshes every heartbeat. Every change happens in a transaction under
/// ``PostgresDatabase/Lock/presence`` that also decides, by counting the account's rows,
/// whether the change made it come online or go offline anywhere; only then does it NOTIFY,
/// inside the same transaction. So each transition is announced once, in commit order, whichever
/// nodes race. A node that stops heart-beating for ``timeout`` is removed by whichever node
/// looks next (the same transaction, the same counting), so its users' leave notices go out
/// once too.
///
/// A node writes its changes in order but late, and another node's may land in between: had a
/// session's row not been written yet when the account's sessions elsewhere closed, the count
/// would reach 0 (a leave) while the session is open, then 1 again (a join). So a session is not
/// welcomed before its node's row is written (``settle()``); only leaving is written behind.
package final class ClusterPresence: Sendable {
    package let nodeID: UUID
    package let label: String
    package let timeout: Duration
    private let database: PostgresDatabase
    private let online = Mutex<[Int64: Account]>([:])
    /// What this node must write or say, in the order it happened.
    private enum Change {
        case presence(Account, online: Bool)
        case logout(Data)
    }

    private let changes: AsyncStream<(Change, UInt64)>
    private let changesInput: AsyncStream<(Change, UInt64)>.Continuation
    private let progress = Mutex(Progress())

    /// How far the change stream has been written, and who waits for it.
    private struct Progress {
        var queued: UInt64 = 0
        var written: UInt64 = 0
        var waiters: [(target: UInt64, id: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiter = 0
    }
    private let logger: Logger

    package init(database: PostgresDatabase, label: String, timeout: Duration, logger: Logger) {
        self.nodeID = UUID()
        self.label = label
        self.timeout = timeout
        self.database = database
        self.logger = logger
        // Unbounded, but each entry is one session opening or closing on this node: the
        // sessions themselves bound it.
        (changes, changesInput) = AsyncStream.makeStream()
    }

    // MARK: what the bridge hands over

    package func localPresenceChanged(_ account: Account, online: Bool) {
        enqueue(.presence(account, online: online))
    }

    /// Returns once every change this node queued so far is written (at most `limit`: a database
    /// that is away must not hold a session's welcome forever).
    package func settle(limit: Duration = .seconds(5)) async {
        let id = progress.withLock { p -> Int in
            p.nextWaiter += 1
            return p.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            self.release(id)
        }
        await withCheckedContinuation { continuation in
            let done = progress.withLock { p -> Bool in
                guard p.written < p.queued else { return true }
                p.waiters.append((p.queued, id, continuation))
                return false
            }
            if done { continuation.resume() }
        }
        timer.cancel()
    }

    private func release(_ id: Int) {
        let waiter = progress.withLock { p in
            p.waiters.firstIndex { $0.id == id }.map { p.waiters.remove(at: $0).continuation }
        }
        waiter?.resume()
    }

    private func enqueue(_ change: Change) {
        let sequence = progress.withLock { p -> UInt64 in
            p.queued += 1
            return p.queued
        }
        changesInput.yield((change, sequence))
    }

    private func written(_ sequence: UInt64) {
        let ready = progress.withLock { p -> [CheckedContinuation<Void, Never>] in
            p.written = max(p.written, sequence)
            let ready = p.waiters.filter { $0.target <= p.written }.map(\.continuation)
            p.waiters.removeAll { $0.target <= p.written }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    package func onlineAnywhere() -> Set<Int64> {
        Set(online.withLock { $0.keys })
    }

    package func loggedOut(tokenHash: Data) {
        enqueue(.logout(tokenHash))
    }

    // MARK: events from the bus

    /// Applies a join or leave another node (or this one) announced; returns whether it changed
    /// what this node knew, i.e. whether its sessions must be told.
    package func heard(_ account: Account, online isOnline: Bool) -> Bool {
        online.withLock { online in
            if isOnline {
                return online.updateValue(account, forKey: account.id) == nil
            }
            return online.removeValue(forKey: account.id) != nil
        }
    }

    /// Reads who is online from the table (after the listener (re)connected, when notifications
    /// may have been missed) and returns what changed since what this node knew.
    package func reload() async throws -> (joined: [Account], left: [Account]) {
        let rows = try await database.client.query("SELECT DISTINCT account_id, account_name FROM presence", logger: logger)
        var fresh: [Int64: Account] = [:]
        for try await (id, name) in rows.decode((Int64, String).self) {
            fresh[id] = Account(id: id, name: name)
        }
        return online.withLock { online in
            let joined = fresh.filter { online[$0.key] == nil }.map(\.value)
            let left = online.filter { fresh[$0.key] == nil }.map(\.value)
            online = fresh
            return (joined, left)
        }
    }

    // MARK: this node's rows

    /// Announces this node. Its presence rows follow as sessions open.
    package func register() async throws {
        try await database.client.query("""
            INSERT INTO nodes (id, label, heartbeat_at) VALUES (\(nodeID), \(label), now())
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, logger: logger)
    }

    /// Writes this node's presence changes, one transaction each, and announces its logouts, in
    /// the order they happened;
    /// returns when the stream is finished (``finish()``).
    package func runChanges() async {
        for await (change, sequence) in changes {
            defer { written(sequence) }
            switch change {
            case .presence(let account, let isOnline):
                await retrying("presence change") {
                    try await self.apply(account, online: isOnline)
                }
            case .logout(let tokenHash):
                await retrying("announcing a logout", attempts: 3) {
                    try await self.database.client.withConnection { connection in
                        _ = try await connection.query(ClusterEvent.logout(tokenHash: tokenHash).notification, logger: self.logger)
                    }
                }
            }
        }
    }

    package func finish() {
        changesInput.finish()
    }

    private func apply(_ account: Account, online isOnline: Bool) async throws {
        let logger = logger
        try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresDatabase.Lock.presence.rawValue))", logger: logger)
            if isOnline {
                try await connection.query("""
                    INSERT INTO presence (node_id, account_id, account_name) VALUES (\(nodeID), \(account.id), \(account.name))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM presence WHERE node_id = \(nodeID) AND account_id = \(account.id)", logger: logger)
            }
            let rows = try await connection.query("SELECT COUNT(*) FROM presence WHERE account_id = \(account.id)", logger: logger)
            var count: Int64 = 0
            for try await n in rows.decode(Int64.self) { count = n }
            if isOnline ? count == 1 : count == 0 {
                try await connection.query(ClusterEvent.presence(account: account, online: isOnline).notification, logger: logger)
            }
        }
    }

    /// Refreshes this node's heartbeat. If the others already took it for dead (a pause longer
    /// than the timeout), it registers again and puts back the accounts it still has sessions of.
    package func heartbeat(localAccounts: () -> [Account]) async throws {
        let rows = try await database.client.query(
            "UPDATE nodes SET heartbeat_at = now() WHERE id = \(nodeID) RETURNING id", logger: logger)
        var alive = false
        for try await _ in rows.decode(UUID.self) { alive = true }
        guard !alive else { return }
        logger.warning("this node was taken for dead by the cluster; registering again", metadata: ["node": "\(nodeID)"])
        try await register()
        for account in localAccounts() {
            enqueue(.presence(account, online: true))
        }
    }

    /// Removes nodes silent for longer than ``timeout`` (and presence rows of nodes that are gone),
    /// announcing each account that no node has any more.
    package func reapDeadNodes() async throws {
        let seconds = Double(timeout.components.seconds)
        try await removeNodes(where: "heartbeat_at < now() - make_interval(secs => \(seconds))", reason: "missed heartbeats")
    }

    /// Removes this node and its presence at shutdown, announcing whoever is now offline.
    package func goodbye() async {
        await retrying("leaving the cluster", attempts: 3) {
            try await self.removeNodes(where: "id = '\(self.nodeID.uuidString)'", reason: "shut down")
        }
    }

    private func removeNodes(where condition: String, reason: String) async throws {
        let logger = logger
        let gone: [(UUID, String)] = try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresDatabase.Lock.presence.rawValue))", logger: logger)
            var dead: [(UUID, String)] = []
            let removed = try await connection.query(
                PostgresQuery(unsafeSQL: "DELETE FROM nodes WHERE \(condition) RETURNING id, label"), logger: logger)
            for try await (id, label) in removed.decode((UUID, String).self) { dead.append((id, label)) }
            // rows of nodes that no longer exist: the dead ones, and any left by a change that
            // raced a node's own goodbye
            let rows = try await connection.query("""
                DELETE FROM presence WHERE node_id NOT IN (SELECT id FROM nodes) RETURNING account_id, account_name
                """, logger: logger)
            var candidates: [Int64: Account] = [:]
            for try await (id, name) in rows.decode((Int64, String).self) { candidates[id] = Account(id: id, name: name) }
            for account in candidates.values {
                let left = try await connection.query("SELECT COUNT(*) FROM presence WHERE account_id = \(account.id)", logger: logger)
                var count: Int64 = 0
                for try await n in left.decode(Int64.self) { count = n }
                if count == 0 {
                    try await connection.query(ClusterEvent.presence(account: account, online: false).notification, logger: logger)
                }
            }
            return dead
        }
        for (id, label) in gone where id != nodeID {
            logger.notice("cluster node removed", metadata: ["node": "\(id)", "label": "\(label)", "reason": "\(reason)"])
        }
    }

    /// Runs `work` until it succeeds (a database that is briefly away must not lose a presence
    /// change), giving up after `attempts` if given.
    private func retrying(_ what: String, attempts: Int = .max, _ work: () async throws -> Void) async {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await work()
                return
            } catch {
                logger.warning("\(what) failed; retrying", metadata: ["error": "\(PostgresDatabase.describe(error))"])
                if attempt >= attempts || Task.isCancelled { return }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

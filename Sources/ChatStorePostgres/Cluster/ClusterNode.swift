import ChatCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import Synchronization

/// This process as one node of a cluster, and the hub's one ``ClusterBridge``: what this node
/// commits, changes or logs out goes to the other nodes through `NOTIFY chatd` (the statements
/// are ``ClusterEvent``'s), and what any node says comes back through this node's own listener
/// (its own connection, outside the pool, as LISTEN needs) to the message feed, the presence
/// board and the hub. So every node shows everything in the same order, its own work included.
///
/// When the listener connection drops it reconnects, then re-reads presence and looks for
/// messages it may have missed, so a lost notification delays delivery but never loses it; a
/// tick every heartbeat makes the feed look in any case.
package final class ClusterNode: Service, ClusterBridge {
    package let database: PostgresDatabase
    package let presence: ClusterPresence
    package let feed: MessageFeed
    /// This node's hub, known once it is built: the hub is built with its bridge.
    private let local: LocalHub
    /// File changes to announce, in the order they were made (a rename is a delete and an add).
    private let fileChanges: AsyncStream<FileEvent>
    private let fileChangesInput: AsyncStream<FileEvent>.Continuation
    private let logger: Logger

    /// Registers this node with the cluster; its feed delivers what is committed from now on.
    package static func join(database: PostgresDatabase, messages: PostgresMessageStore, presence: ClusterPresence,
                             logger: Logger) async throws -> ClusterNode {
        let local = LocalHub()
        let feed = MessageFeed(store: messages, hub: local, startAfter: try await messages.newestID(), logger: logger)
        try await presence.register()
        return ClusterNode(database: database, presence: presence, feed: feed, local: local, logger: logger)
    }

    private init(database: PostgresDatabase, presence: ClusterPresence, feed: MessageFeed, local: LocalHub, logger: Logger) {
        self.database = database
        self.presence = presence
        self.feed = feed
        self.local = local
        self.logger = logger
        (fileChanges, fileChangesInput) = AsyncStream.makeStream()
    }

    // MARK: ClusterBridge

    package func connect(_ hub: ChatHub) {
        local.hub.withLock { $0 = hub }
    }

    /// Its NOTIFY went out with the commit (``PostgresMessageStore/insert(_:nowMillis:)``); the
    /// feed delivers it here without reading it back when nothing from another node is due first.
    package func committed(_ batch: [StoredMessage]) {
        feed.deliver(batch)
    }

    /// Does not wait: the changes go out in order from one task.
    package func fileChanged(_ event: FileEvent) {
        fileChangesInput.yield(event)
    }

    package func localPresenceChanged(_ account: Account, online: Bool) {
        presence.localPresenceChanged(account, online: online)
    }

    package func settle(limit: Duration) async {
        await presence.settle(limit: limit)
    }

    package func onlineAnywhere() -> Set<Int64> {
        presence.onlineAnywhere()
    }

    package func loggedOut(tokenHash: Data) {
        presence.loggedOut(tokenHash: tokenHash)
    }

    // MARK: running

    package func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.feed.run() }
            group.addTask { await self.presence.runChanges() }
            group.addTask { await self.listen() }
            group.addTask { await self.beat() }
            group.addTask { await self.announceFileChanges() }
            // returns at graceful shutdown, throws at cancellation: stop either way
            try? await gracefulShutdown()
            feed.stop()
            presence.finish()
            fileChangesInput.finish()
            group.cancelAll()
            await group.waitForAll()
        }
        await presence.goodbye()
        logger.info("left the cluster", metadata: ["node": "\(presence.nodeID)"])
    }

    /// A heartbeat every third of the timeout, so that a node is taken for dead only after it
    /// missed about three in a row.
    package var heartbeatInterval: Duration { presence.timeout / 3 }

    // MARK: the listener

    private func listen() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: database.connectionConfiguration(purpose: "listener"), id: 0, logger: logger)
                attempt = 0
                do {
                    try await connection.listen(on: ClusterEvent.channel) { notifications in
                        try await connected()
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await notification in notifications {
                                    self.dispatch(notification.payload)
                                }
                                throw ListenerClosed()
                            }
                            // a connection that died silently shows itself only when used
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: self.heartbeatInterval)
                                    try await connection.query("SELECT 1", logger: self.logger)
                                }
                            }
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
            } catch {
                if Task.isCancelled { return }
                attempt += 1
                logger.warning("cluster listener lost; reconnecting", metadata: [
                    "error": "\(PostgresDatabase.describe(error))", "attempt": "\(attempt)",
                ])
                try? await Task.sleep(for: .milliseconds(min(5000, 250 * attempt)))
            }
        }
    }

    private struct ListenerClosed: Error, CustomStringConvertible {
        var description: String { "the listener connection closed" }
    }

    /// Listening again: whatever was said meanwhile is read from the tables.
    private func connected() async throws {
        let (joined, left) = try await presence.reload()
        let hub = local.current
        for account in joined { hub?.announce(account, online: true) }
        for account in left { hub?.announce(account, online: false) }
        feed.poke()
        logger.debug("cluster listener connected", metadata: ["node": "\(presence.nodeID)"])
    }

    private func dispatch(_ payload: String) {
        guard let hub = local.current else { return }
        switch ClusterEvent(payload: payload) {
        case .messages(let id):
            feed.poke(upTo: id)
        case .presence(let account, let online):
            if presence.heard(account, online: online) {
                hub.announce(account, online: online)
            }
        case .file(let event):
            hub.sendToAll(FrameEncoder.encode(.file(event)))
        case .logout(let tokenHash):
            hub.closeLocalSessions(tokenHash: tokenHash)
        case nil:
            logger.debug("ignoring an unknown cluster event", metadata: ["payload": "\(payload.prefix(80))"])
        }
    }

    // MARK: heartbeats

    private func beat() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: heartbeatInterval)
            } catch {
                return
            }
            do {
                try await presence.heartbeat(localAccounts: { self.local.current?.localAccounts() ?? [] })
                try await presence.reapDeadNodes()
            } catch {
                logger.warning("cluster heartbeat failed", metadata: ["error": "\(PostgresDatabase.describe(error))"])
            }
            feed.poke()
        }
    }

    private func announceFileChanges() async {
        for await event in fileChanges {
            do {
                try await database.client.query(ClusterEvent.file(event).notification, logger: logger)
            } catch {
                logger.error("announcing a file change failed", metadata: [
                    "name": "\(event.file.name)", "error": "\(PostgresDatabase.describe(error))",
                ])
            }
        }
    }
}

/// The hub the feed and the listener hand things to, set by ``ClusterNode/connect(_:)``.
private final class LocalHub: MessageDelivery {
    let hub = Mutex<ChatHub?>(nil)

    var current: ChatHub? {
        hub.withLock { $0 }
    }

    func deliver(_ batch: [StoredMessage]) {
        current?.deliver(batch)
    }
}

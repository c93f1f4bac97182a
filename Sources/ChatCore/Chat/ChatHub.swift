import Foundation
import Logging
import NIOCore
import Shared
import Synchronization

/// The live side of the chat: which sessions are connected, who is online, and fan-out of
/// committed messages and notices to the right sessions.
///
/// The registry sits behind one short lock that is held only to look sessions up or change
/// presence; frames are encoded before taking it and enqueueing never blocks, so a slow
/// client cannot hold up the hub or anybody else.
///
/// With a ``ClusterBridge`` (cluster nodes) the hub still tracks this node's sessions but no
/// longer decides what they see on its own: committed messages, file changes, its first and
/// last sessions per account and logouts go to the bridge, and come back from the cluster in
/// one order for every node alike. The `publish` and `closeSessions` methods are that choice,
/// made here and nowhere else.
package final class ChatHub: Sendable {
    private struct Registry {
        var byAccount: [Int64: [ChatSession]] = [:]
        /// Every session, kept as one array so that a broadcast takes a snapshot by reference.
        var all: [ChatSession] = []
    }

    private let registry = Mutex(Registry())
    private let logger: Logger
    private let bridge: (any ClusterBridge)?
    package let metrics: ChatMetrics

    package init(logger: Logger, metrics: ChatMetrics = .disabled, bridge: (any ClusterBridge)? = nil) {
        self.logger = logger
        self.metrics = metrics
        self.bridge = bridge
        bridge?.connect(self)
    }

    /// Sends a batch this node committed on: through the cluster when there is one, so that
    /// every node merges all nodes' messages in id order; else straight to the sessions.
    package func publish(_ batch: [StoredMessage]) {
        if let bridge {
            bridge.committed(batch)
        } else {
            deliver(batch)
        }
    }

    /// Tells everybody about a file change: through the cluster when there is one, so that
    /// every node sees it once and in the same order.
    package func publish(_ event: FileEvent) {
        if let bridge {
            bridge.fileChanged(event)
        } else {
            sendToAll(FrameEncoder.encode(.file(event)))
        }
    }

    /// Registers a session. When it is its account's first, everybody else is told it joined.
    /// - Returns: whether this made the account come online.
    @discardableResult
    package func attach(_ session: ChatSession) -> Bool {
        let joined = ServerFrame.info(.init(event: .join, user: session.account.name))
        return registry.withLock { registry in
            let first = registry.byAccount[session.account.id, default: []].isEmpty
            registry.byAccount[session.account.id, default: []].append(session)
            registry.all.append(session)
            if first, let bridge {
                bridge.localPresenceChanged(session.account, online: true)
            } else if first {
                // under the lock, so that join and leave notices of one account cannot cross
                let frame = FrameEncoder.encode(joined)
                var drains = DrainRequests()
                for other in registry.all where other.account.id != session.account.id {
                    other.send(frame, into: &drains)
                }
                drains.schedule()
            }
            metrics.sessions.record(registry.all.count)
            metrics.accountsOnline.record(registry.byAccount.count)
            return first
        }
    }

    /// Waits until the cluster counts this node's sessions (nothing to wait for on one node).
    package func settlePresence() async {
        await bridge?.settle(limit: .seconds(5))
    }

    /// Unregisters a session. When it was its account's last, everybody is told it left.
    package func detach(_ session: ChatSession) {
        let left = ServerFrame.info(.init(event: .leave, user: session.account.name))
        registry.withLock { registry in
            guard var sessions = registry.byAccount[session.account.id],
                  let index = sessions.firstIndex(where: { $0 === session }) else { return }
            sessions.remove(at: index)
            registry.all.removeAll { $0 === session }
            if sessions.isEmpty, let bridge {
                registry.byAccount[session.account.id] = nil
                bridge.localPresenceChanged(session.account, online: false)
            } else if sessions.isEmpty {
                registry.byAccount[session.account.id] = nil
                let frame = FrameEncoder.encode(left)
                var drains = DrainRequests()
                for other in registry.all {
                    other.send(frame, into: &drains)
                }
                drains.schedule()
            } else {
                registry.byAccount[session.account.id] = sessions
            }
            metrics.sessions.record(registry.all.count)
            metrics.accountsOnline.record(registry.byAccount.count)
        }
    }

    /// Who is online now, as a lookup: a copy of the registry's index (copy-on-write, so taking
    /// it under the lock is free and looking up in it needs no lock).
    package func presence() -> (Int64) -> Bool {
        let byAccount = registry.withLock { $0.byAccount }
        guard let elsewhere = bridge?.onlineAnywhere() else { return { byAccount[$0] != nil } }
        return { byAccount[$0] != nil || elsewhere.contains($0) }
    }

    /// The accounts with a session on this node.
    package func localAccounts() -> [Account] {
        registry.withLock { $0.byAccount.values.compactMap(\.first?.account) }
    }

    package var sessionCount: Int {
        registry.withLock { $0.all.count }
    }

    /// Sends committed messages, in id order, to this node's sessions that can see each. The sender's own
    /// sessions get a copy carrying `client_id`; everybody else gets one shared encoding. Writers
    /// are woken once for the whole batch.
    package func deliver(_ batch: [StoredMessage]) {
        var drains = DrainRequests()
        var everyone: [ChatSession]?
        var deliveries = 0
        for message in batch {
            let (plain, own) = MessageFrameEncoder.frames(for: message)
            let senderID = message.sender.id
            if let recipient = message.recipient {
                let (senderSessions, recipientSessions) = registry.withLock {
                    ($0.byAccount[senderID] ?? [], recipient.id == senderID ? [] : ($0.byAccount[recipient.id] ?? []))
                }
                for session in senderSessions { session.send(own, messageID: message.id, into: &drains) }
                for session in recipientSessions { session.send(plain, messageID: message.id, into: &drains) }
                deliveries += senderSessions.count + recipientSessions.count
            } else {
                if everyone == nil { everyone = registry.withLock { $0.all } }
                for session in everyone! {
                    session.send(session.account.id == senderID ? own : plain, messageID: message.id, into: &drains)
                }
                deliveries += everyone!.count
            }
        }
        drains.schedule()
        metrics.deliveries.increment(by: deliveries)
    }

    /// Sends one frame to every session of an account, except possibly one.
    package func send(_ frame: WireFrame, toAccount accountID: Int64, except: ChatSession? = nil) {
        let sessions = registry.withLock { $0.byAccount[accountID] ?? [] }
        var drains = DrainRequests()
        for session in sessions where session !== except {
            session.send(frame, into: &drains)
        }
        drains.schedule()
    }

    /// Sends one frame to every session (file area changes).
    package func sendToAll(_ frame: WireFrame) {
        let everyone = registry.withLock { $0.all }
        var drains = DrainRequests()
        for session in everyone {
            session.send(frame, into: &drains)
        }
        drains.schedule()
    }

    /// Sends one frame to every session of every account but one.
    package func send(_ frame: WireFrame, toAllExceptAccount accountID: Int64) {
        let everyone = registry.withLock { $0.all }
        var drains = DrainRequests()
        for session in everyone where session.account.id != accountID {
            session.send(frame, into: &drains)
        }
        drains.schedule()
    }

    /// Tells every session but the account's own that it came online or went offline: the
    /// cluster's decision, arriving the same way on every node.
    package func announce(_ account: Account, online: Bool) {
        let frame = FrameEncoder.encode(ServerFrame.info(.init(event: online ? .join : .leave, user: account.name)))
        send(frame, toAllExceptAccount: account.id)
    }

    /// Closes every session that logged in with this token (after `POST /api/logout`), on
    /// every node of a cluster.
    package func closeSessions(tokenHash: Data) {
        if let bridge {
            bridge.loggedOut(tokenHash: tokenHash)
        } else {
            closeLocalSessions(tokenHash: tokenHash)
        }
    }

    /// Closes this node's sessions that logged in with this token.
    package func closeLocalSessions(tokenHash: Data) {
        let everyone = registry.withLock { $0.all }
        for session in everyone where session.identity.tokenHash == tokenHash {
            session.send(FrameEncoder.error(ProtocolError(.unauthorized, "this session was logged out")))
            session.close(.loggedOut)
        }
    }

    /// Closes every session (server shutdown).
    package func closeAll(_ reason: CloseReason) {
        let everyone = registry.withLock { $0.all }
        logger.info("closing sessions", metadata: ["count": "\(everyone.count)", "code": "\(reason.code)"])
        for session in everyone {
            session.close(reason)
        }
    }
}

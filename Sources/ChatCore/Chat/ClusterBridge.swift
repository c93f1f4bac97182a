import Foundation
import Shared

/// The one road between this node and the other nodes of a cluster.
///
/// Everything that must reach sessions on every node goes through it when there is one:
/// committed messages, presence changes, file area changes and logouts. The ``ChatHub`` hands
/// them over and the bridge brings back what every node (this one included) must show, in the
/// same order everywhere, by calling the hub's local methods (``ChatHub/deliver(_:)``,
/// ``ChatHub/announce(_:online:)``, ``ChatHub/sendToAll(_:)``, ``ChatHub/closeLocalSessions(tokenHash:)``).
/// Without a bridge (one node) the hub does that itself, at once.
package protocol ClusterBridge: Sendable {
    /// Called once, by the hub that hands things to this bridge: where it delivers what it hears.
    func connect(_ hub: ChatHub)

    /// A batch this node committed, ids rising.
    func committed(_ batch: [StoredMessage])

    /// A file was added, replaced or deleted here. Must not block.
    func fileChanged(_ event: FileEvent)

    /// The account's first session on this node opened (`true`) or its last closed (`false`):
    /// an account is online while any node has a session of it, so the cluster decides joins
    /// and leaves. Called under the hub's lock, in the order the changes happened: must not block.
    func localPresenceChanged(_ account: Account, online: Bool)

    /// Returns once this node's presence changes made so far are written where the other nodes
    /// count them: a session is welcomed only after that, so it is never counted gone meanwhile.
    func settle(limit: Duration) async

    /// Accounts online on any node, as last heard.
    func onlineAnywhere() -> Set<Int64>

    /// A token was logged out: every node closes the sessions opened with it. Must not block.
    func loggedOut(tokenHash: Data)
}

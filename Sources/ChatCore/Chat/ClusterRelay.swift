import Foundation

/// What the hub hands to the other nodes when this process is not the only one: presence (an
/// account is online while any node has a session of it, so joins and leaves are decided with
/// the other nodes, by ``ClusterPresence``) and logouts (a token's sessions may be on any node).
package protocol ClusterRelay: Sendable {
    /// The account's first session on this node opened (`true`) or its last closed (`false`).
    /// Called under the hub's lock, in the order the changes happened: must not block.
    func localPresenceChanged(_ account: Account, online: Bool)

    /// Returns once this node's presence changes made so far are written where the other nodes
    /// count them: a session is welcomed only after that, so it is never counted gone meanwhile.
    func settle(limit: Duration) async

    /// Accounts online on any node, as last heard.
    func onlineAnywhere() -> Set<Int64>

    /// A token was logged out: every node closes the sessions opened with it. Must not block.
    func loggedOut(tokenHash: Data)
}

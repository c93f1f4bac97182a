/// Where presence is decided when this process is not the only one: an account is online while
/// any node has a session of it, so join and leave notices are decided together with the other
/// nodes (``ClusterPresence``) instead of by this node's hub alone.
protocol PresenceRelay: Sendable {
    /// The account's first session on this node opened (`true`) or its last closed (`false`).
    /// Called under the hub's lock, in the order the changes happened: must not block.
    func localPresenceChanged(_ account: Account, online: Bool)

    /// Accounts online on any node, as last heard.
    func onlineAnywhere() -> Set<Int64>
}

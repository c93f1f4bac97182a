import ChatCore

/// Where ``MessageFeed`` hands messages once they are in id order: this node's ``ChatHub``
/// (through ``ClusterNode``), or a recorder in the feed's tests.
package protocol MessageDelivery: Sendable {
    func deliver(_ batch: [StoredMessage])
}

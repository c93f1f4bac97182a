/// Takes committed messages, in id order, and sends each to the sessions that may see it.
package protocol MessageDelivery: Sendable {
    func deliver(_ batch: [StoredMessage])
}

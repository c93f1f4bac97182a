import NIOCore

/// What an upgraded WebSocket connection carries: the chat (``ChatEndpoint``), or an echo for
/// the conformance suite. The ``WebSocketConnection`` keeps RFC 6455 (reassembly, limits, pings,
/// the close handshake, reading only while the endpoint can take more); the endpoint decides
/// what a message means. Every method is called on the connection's event loop.
protocol WebSocketEndpoint: AnyObject {
    /// The connection is up. Nothing is read until the endpoint calls
    /// ``WebSocketConnection/ready()``.
    func start(on connection: WebSocketConnection)

    /// A whole message: text (valid UTF-8) or binary.
    func received(_ message: ByteBuffer, binary: Bool, on connection: WebSocketConnection)

    /// The connection is gone (closed by either side, or cut). Called once.
    func ended()
}

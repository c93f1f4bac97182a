import ChatCore
import ChatTLS
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// HTTPS and WSS on the HTTP listener: puts a TLS handler made from the *current*
/// ``TLSIdentity`` context in front of Hummingbird's HTTP/1 + WebSocket pipeline.
///
/// Hummingbird's own `TLSChannel` fixes its context when the server is built; this one reads it
/// at every accept, which is what lets SIGHUP swap the certificate for new connections.
package struct TLSServerChannel<Base: ServerChildChannel>: ServerChildChannel {
    package typealias Value = Base.Value

    package let base: Base
    package let identity: TLSIdentity

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: identity.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    package func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    package init(base: Base, identity: TLSIdentity) {
        self.base = base
        self.identity = identity
    }
}

extension TLSServerChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    package var responder: HTTPChannelHandler.Responder { base.responder }
}

import ChatCore
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// chatd's HTTP/1 + WebSocket connection: Hummingbird's pipeline with two handlers of chatd's
/// own put right behind NIO's HTTP/1 decoder, where they see every connection from its first
/// byte, before Hummingbird decides between HTTP and a WebSocket upgrade:
/// ``MalformedRequestResponder`` (a head that does not parse or is too large gets 400 or 431)
/// and ``RequestHeadTimeoutHandler`` (a head that does not arrive in time gets 408); and an
/// ``OutputStallHandler`` in front of everything (a client that stops reading is cut).
///
/// Hummingbird only lets extra handlers go behind its own codec, and on the upgrade pipeline
/// only once the first request has been decoded, which is too late for these.
package struct GuardedHTTPChannel<Base: ServerChildChannel>: ServerChildChannel {
    package typealias Value = Base.Value

    package let base: Base
    /// `--header-timeout`.
    package let headerTimeout: TimeAmount
    /// How long the output may stay blocked by a client that does not read.
    package let outputStallTimeout: TimeAmount

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(RequestHeadTimeoutHandler(timeout: headerTimeout, logger: logger), position: .after(decoder))
            try pipeline.addHandler(MalformedRequestResponder(logger: logger), position: .after(decoder))
            try pipeline.addHandler(OutputStallHandler(timeout: outputStallTimeout, logger: logger), position: .first)
            return value
        }
    }

    package func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    package init(base: Base, headerTimeout: TimeAmount, outputStallTimeout: TimeAmount) {
        self.base = base
        self.headerTimeout = headerTimeout
        self.outputStallTimeout = outputStallTimeout
    }
}

extension GuardedHTTPChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    package var responder: HTTPChannelHandler.Responder { base.responder }
}

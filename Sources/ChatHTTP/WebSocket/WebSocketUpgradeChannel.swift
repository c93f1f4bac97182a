import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Which requests become WebSocket connections, and what each carries: the chat's ``ChatWebSocket``,
/// or the conformance suite's echo.
package protocol WebSocketDoor: Sendable {
    associatedtype Verdict: Sendable
    /// Whether a request for this target may upgrade at all.
    func accepts(_ target: String) -> Bool
    /// What is decided about an upgrade (who it is, or why it is refused) before it happens.
    func decide(_ head: HTTPRequestHead) async -> Verdict
    /// The handler the upgraded connection gets (a ``WebSocketConnection``).
    func connection(for verdict: Verdict, channel: any Channel, logger: Logger) -> any ChannelHandler
}

/// chatd's HTTP/1 connection with a WebSocket upgrade: Hummingbird's HTTP handling for every
/// request the door does not take, and for those it takes a plain NIO pipeline once upgraded.
///
/// After the upgrade the connection is NIO's frame decoder and encoder and one
/// ``WebSocketConnection`` on the socket's event loop: no task, async sequence or HTTP
/// connection state lives on for the session, and ``handle(value:)`` returns at once (the
/// connection owns the channel from then on; the hub closes chat sessions at shutdown).
package struct WebSocketUpgradeChannel<Door: WebSocketDoor>: ServerChildChannel, HTTPChannelHandler {
    package enum UpgradeResult: Sendable {
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    package struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        package let channel: any Channel
    }

    package let responder: HTTPChannelHandler.Responder
    let http1: HTTP1Channel.Configuration
    let door: Door
    /// Frames over this are refused with 1009 by NIO's decoder (PROTOCOL.md: 64 KiB).
    let maxFrameSize: Int

    package init(responder: @escaping HTTPChannelHandler.Responder, http1: HTTP1Channel.Configuration, door: Door, maxFrameSize: Int) {
        self.responder = responder
        self.http1 = http1
        self.door = door
        self.maxFrameSize = maxFrameSize
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let attempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            // decided in shouldUpgrade (which may wait for the database), used once upgraded
            let verdict = NIOLoopBoundBox<Door.Verdict?>(nil, eventLoop: channel.eventLoop)
            let door = self.door
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    attempted.value = true
                    guard door.accepts(head.uri) else { return channel.eventLoop.makeSucceededFuture(nil) }
                    let promise = channel.eventLoop.makePromise(of: Door.Verdict.self)
                    promise.completeWithTask { await door.decide(head) }
                    return promise.futureResult.map { decided -> HTTPHeaders? in
                        verdict.value = decided
                        return HTTPHeaders()
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let decided = verdict.value else { throw ChannelError.inappropriateOperationForState }
                        verdict.value = nil
                        try channel.pipeline.syncOperations.addHandler(door.connection(for: decided, channel: channel, logger: logger))
                        return UpgradeResult.webSocket
                    }
                })
            let http1 = self.http1
            let serverUpgrade = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(http1.additionalChannelHandlers())
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return attempted.value ? UpgradeResult.failedUpgrade(asyncChannel) : UpgradeResult.notUpgraded(asyncChannel)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgrade)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    package func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket:
                return
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .failedUpgrade(let http1):
                await Self.refuseUpgrade(http1, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before a request")
        } catch {
            logger.debug("connection ended before a request was answered", metadata: ["error": "\(error)"])
        }
    }

    /// An upgrade request for another path, or one NIO's upgrader found malformed: 400.
    private static func refuseUpgrade(_ channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await channel.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("could not answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }
}

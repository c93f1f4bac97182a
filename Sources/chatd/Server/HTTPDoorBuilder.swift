import ChatCore
import ChatHTTP
import ChatTLS
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP door as a service: the routes (API, files, the browser UI, the WebSocket upgrade)
/// and the connection pipeline chatd's HTTP guards add to each connection.
struct HTTPDoorBuilder {
    let config: ServerConfig
    let accounts: Accounts
    let chat: ChatService
    let files: FileStore
    let health: StorageHealth
    let metrics: ChatMetrics
    let metricsEndpoint: MetricsEndpoint?
    let tls: TLSIdentity?

    /// The application, which calls `ready` with its port once it listens.
    func application(ready: ReadySignal, logger: Logger) -> any Service {
        let router = Router(context: ChatRequestContext.self)
        if let metricsEndpoint {
            metricsEndpoint.bootstrapGlobalSystem()
            router.add(middleware: MetricsMiddleware())
        }
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        let cookie = SessionCookie(lifetime: accounts.tokenLifetime, secure: tls != nil)
        APIRoutes(accounts: accounts, chat: chat, health: health, cookie: cookie).register(on: router)
        FileRoutes(store: files, accounts: accounts, cookie: cookie, metrics: metrics).register(on: router)
        WebRoutes(assets: WebAssets.bundled(logger: logger)).register(on: router)
        let webSocket = ChatWebSocket(accounts: accounts, chat: chat, pingInterval: config.pingInterval)
        let channelConfiguration = self.channelConfiguration
        let headerTimeout = TimeAmount.seconds(Int64(config.headerTimeout))
        let idleTimeout = self.idleTimeout
        let tls = self.tls
        let port = config.httpPort
        return Application(
            router: router,
            server: HTTPServerBuilder { responder -> any ServerChildChannel in
                let upgradable = WebSocketUpgradeChannel(responder: responder, http1: channelConfiguration, door: webSocket,
                                                         maxFrameSize: ChatWebSocket.maxFrameSize)
                let plain = GuardedHTTPChannel(base: upgradable, headerTimeout: headerTimeout, outputStallTimeout: idleTimeout)
                guard let tls else { return plain }
                return TLSServerChannel(base: plain, identity: tls)
            },
            configuration: .init(address: .hostname(config.httpHost, port: config.httpPort), serverName: nil),
            onServerRunning: { channel in
                ready.fire(port: channel.localAddress?.port ?? port)
            },
            logger: logger)
    }

    /// How long an HTTP connection may make no progress (`--http-idle-timeout`): Hummingbird's
    /// idle timeout between request parts, and OutputStallHandler's for a client that stops reading.
    private var idleTimeout: TimeAmount {
        .seconds(Int64(config.httpIdleTimeout))
    }

    private var channelConfiguration: HTTP1Channel.Configuration {
        let largestBody = files.policy.largestBody(framing: FileRoutes.multipartOverhead)
        return HTTP1Channel.Configuration(
            // Made anew for every connection. Under TLS downloads go through buffers:
            // sendfile(2) would bypass the encryption.
            additionalChannelHandlers: tls == nil
                ? [FileRegionSplicerInstaller(), ExpectContinueHandler(largestBody: largestBody)]
                : [ExpectContinueHandler(largestBody: largestBody)],
            idleTimeout: idleTimeout,
            httpDecoderConfiguration: MalformedRequestResponder.decoderLimits)
    }
}

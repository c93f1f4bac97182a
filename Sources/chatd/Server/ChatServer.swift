import ChatCore
import ChatFTP
import ChatHTTP
import ChatStorePostgres
import ChatStoreSQLite
import ChatTLS
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Shared

/// Builds chatd from a ``ServerConfig`` and runs it until SIGTERM/SIGINT (or ``Handle/shutdown()``).
///
/// Shutdown order matters and is the reverse of the service list: first every chat session is
/// closed with 1001, then FTP sessions are told 421 and closed, then the HTTP server stops, then
/// a cluster node leaves the cluster, then the message log commits what is still queued, and last
/// the database is checkpointed and closed.
enum ChatServer {
    /// What a running server tells whoever started it.
    struct Handle: Sendable {
        let httpPort: Int
        /// The FTP listener's port; `nil` when FTP is off.
        let ftpPort: Int?
        let chat: ChatService
        fileprivate let group: ServiceGroup

        /// Starts a graceful shutdown, as SIGTERM would.
        func shutdown() async {
            await group.triggerGracefulShutdown()
        }
    }

    static func run(config: ServerConfig) async throws(StartupError) {
        try await run(config: config, handleSignals: true) { _ in }
    }

    /// - Parameters:
    ///   - handleSignals: whether SIGTERM and SIGINT shut the server down (off for in-process tests).
    ///   - onReady: called once the HTTP listener is bound, with the real port (useful with port 0).
    static func run(config: ServerConfig, handleSignals: Bool, onReady: @escaping @Sendable (Handle) async -> Void) async throws(StartupError) {
        try prepareDataDirectory(config.dataDirectory)
        let logFile = try LogFile(directory: config.dataDirectory)
        var baseLogger = Logger(label: "chatd") { label in
            var file = LogFileHandler(label: label, file: logFile)
            file.logLevel = config.logLevel
            guard config.logToStderr else { return file }
            var stderr = StreamLogHandler.standardError(label: label)
            stderr.logLevel = config.logLevel
            return MultiplexLogHandler([stderr, file])
        }
        baseLogger.logLevel = config.logLevel
        let logger = baseLogger
        defer { logFile.flush() }

        let tls: TLSIdentity?
        do {
            tls = try config.tls.map { files throws(TLSIdentity.LoadError) in try TLSIdentity(files: files) }
        } catch {
            throw StartupError(error.description)
        }
        let capacity = FileDescriptorLimit.raise()
        let storage = try await ChatStorage.open(config.database, dataDirectory: config.dataDirectory, logger: logger)
        defer { storage.close(logger: logger) }

        // One node keeps lockouts, rate buckets and presence in memory; cluster nodes share them
        // through the database.
        let loginGuard: any LoginGuard
        let rateLimit: any MessageRateLimit
        var presence: ClusterPresence?
        switch storage.backend {
        case .sqlite:
            loginGuard = LocalLoginGuard(LoginThrottle(namePolicy: config.nameLockout, addressPolicy: config.addressLockout))
            rateLimit = RateLimiter(rate: config.rate)
        case .postgres(let database):
            loginGuard = PostgresLoginGuard(database: database, namePolicy: config.nameLockout, addressPolicy: config.addressLockout)
            rateLimit = PostgresRateLimiter(database: database, rate: config.rate)
            presence = ClusterPresence(database: database, label: "\(ProcessInfo.processInfo.hostName) http=\(config.httpHost):\(config.httpPort)",
                                       timeout: .seconds(config.nodeTimeout), logger: logger)
        }
        let accounts = Accounts(
            store: storage.accounts,
            hasher: PasswordHasher(cost: UInt8(config.bcryptCost)),
            registration: config.registration,
            loginGuard: loginGuard,
            tokenLifetimeDays: config.tokenLifetimeDays,
            logger: logger)
        let metricsEndpoint = config.metrics.map { _ in MetricsEndpoint() }
        let metrics = metricsEndpoint.map { ChatMetrics(factory: $0.factory) } ?? .disabled
        let hub = ChatHub(logger: logger, metrics: metrics, relay: presence)
        let cluster = try await Self.joinCluster(storage: storage, presence: presence, hub: hub, logger: logger)
        let health = StorageHealth(dataDirectory: config.dataDirectory, logger: logger)
        let log = MessageLog(store: storage.messages, hub: hub, delivery: cluster?.feed, health: health, logger: logger)
        let chat = ChatService(
            accounts: accounts, hub: hub, log: log, messages: storage.messages, rateLimiter: rateLimit,
            limits: .init(messageChars: config.messageChars, fileBytes: config.maxFileSize, outboundQueueBytes: config.outboundQueueBytes),
            serverVersion: "chatd \(Chatd.version)", logger: logger)

        let files = FileStore(
            dataDirectory: config.dataDirectory, catalog: storage.files, shared: cluster != nil,
            limits: .init(maxFileSize: config.maxFileSize, quota: config.quota), health: health, logger: logger
        ) { change in
            if let cluster {
                cluster.announce(change)
            } else {
                hub.sendToAll(FrameEncoder.encode(.file(change)))
            }
        }
        try await files.recover()

        var ftp: FTPServer?
        if var ftpConfiguration = config.ftp {
            ftpConfiguration.tls = tls
            ftpConfiguration.metrics = metrics
            ftpConfiguration.session.tlsAvailable = tls != nil
            do {
                ftp = try await FTPServer.bind(configuration: ftpConfiguration, files: files, accounts: accounts, logger: logger)
            } catch {
                throw StartupError("cannot listen for FTP on \(ftpConfiguration.host):\(ftpConfiguration.port): \(StartupError.reason(error))")
            }
        }

        let router = Router(context: ChatRequestContext.self)
        if let metricsEndpoint {
            metricsEndpoint.bootstrapGlobalSystem()
            router.add(middleware: MetricsMiddleware())
        }
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        APIRoutes(accounts: accounts, chat: chat, health: health, secureCookies: tls != nil).register(on: router)
        FileRoutes(store: files, accounts: accounts, metrics: metrics).register(on: router)
        WebRoutes(assets: WebAssets.bundled(logger: logger)).register(on: router)
        let webSocket = ChatWebSocket(accounts: accounts, chat: chat)

        let largestBody = config.maxFileSize + FileRoutes.multipartOverhead
        // How long an HTTP connection may make no progress (`--http-idle-timeout`): Hummingbird's
        // idle timeout between request parts, and OutputStallHandler's for a client that stops reading.
        let idleTimeout = TimeAmount.seconds(Int64(config.httpIdleTimeout))
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(
                // Made anew for every connection. Under TLS downloads go through buffers:
                // sendfile(2) would bypass the encryption.
                additionalChannelHandlers: tls == nil
                    ? [FileRegionSplicerInstaller(), ExpectContinueHandler(largestBody: largestBody)]
                    : [ExpectContinueHandler(largestBody: largestBody)],
                idleTimeout: idleTimeout,
                httpDecoderConfiguration: MalformedRequestResponder.decoderLimits),
            ws: ChatWebSocket.configuration(pingInterval: config.pingInterval))
        let ready = ReadySignal()
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder -> any ServerChildChannel in
                let upgradable = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: channelConfiguration) { head, channel, logger in
                    await webSocket.shouldUpgrade(head, channel: channel, logger: logger)
                }
                let plain = GuardedHTTPChannel(base: upgradable, headerTimeout: .seconds(Int64(config.headerTimeout)),
                                               outputStallTimeout: idleTimeout)
                guard let tls else { return plain }
                return TLSServerChannel(base: plain, identity: tls)
            },
            configuration: .init(address: .hostname(config.httpHost, port: config.httpPort), serverName: nil),
            onServerRunning: { channel in
                ready.fire(port: channel.localAddress?.port ?? config.httpPort)
            },
            logger: logger)

        // shut down in reverse: the cluster node says goodbye after the listeners closed and
        // before the message log's last commit
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: log)]
        if let cluster { services.append(.init(service: cluster)) }
        services.append(.init(service: app))
        if let ftp { services.append(.init(service: ftp)) }
        let metricsReady = ReadySignal()
        if let metricsEndpoint, let (host, port) = config.metrics {
            services.append(.init(service: metricsEndpoint.application(
                host: host, port: port, onRunning: { metricsReady.fire(port: $0) }, logger: logger)))
        }
        services.append(.init(service: SessionCloser(hub: hub, logger: logger)))
        if handleSignals { services.append(.init(service: CertificateReloader(identity: tls, logger: logger))) }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        // A long upload or download must not hold the process forever once asked to stop.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(15)
        let group = ServiceGroup(configuration: groupConfiguration)

        let readyTask = Task {
            guard let port = await ready.wait() else { return }
            var metadata: Logger.Metadata = [
                "http": "\(config.httpHost):\(port)", "data": "\(config.dataDirectory)", "registration": "\(config.registration.rawValue)",
                "connections": "\(capacity)", "database": "\(storage.kind)",
            ]
            if let cluster { metadata["node"] = "\(cluster.presence.nodeID)" }
            if let ftp { metadata["ftp"] = "\(ftp.configuration.host):\(ftp.localAddress.port ?? 0)" }
            if let (host, _) = config.metrics, let port = await metricsReady.wait() { metadata["metrics"] = "\(host):\(port)" }
            if tls != nil { metadata["tls"] = "on" }
            logger.info("chatd listening", metadata: metadata)
            await onReady(Handle(httpPort: port, ftpPort: ftp?.localAddress.port, chat: chat, group: group))
        }
        defer { readyTask.cancel() }
        do {
            try await group.run()
        } catch {
            ready.fail()
            metricsReady.fail()
            // The HTTP and metrics listeners bind concurrently: a failure names the one that did not come up.
            let metricsDown = config.metrics.flatMap { metricsReady.hasFired ? nil : "\($0.host):\($0.port) (metrics)" }
            switch (ready.hasFired, metricsDown) {
            case (true, let metrics?):
                throw StartupError("cannot listen on \(metrics): \(StartupError.reason(error))")
            case (false, let metrics?):
                throw StartupError("cannot listen on \(config.httpHost):\(config.httpPort) or \(metrics): \(StartupError.reason(error))")
            case (false, nil):
                throw StartupError("cannot listen on \(config.httpHost):\(config.httpPort): \(StartupError.reason(error))")
            case (true, nil):
                break
            }
            logger.error("server stopped with an error", metadata: ["error": "\(error)"])
            throw StartupError("server stopped: \(error)")
        }
        ready.fail()
        metricsReady.fail()
        logger.info("chatd stopped")
    }

    /// With PostgreSQL: registers this node and builds what merges the other nodes' messages,
    /// presence and file changes into this one's. `nil` with SQLite.
    private static func joinCluster(storage: ChatStorage, presence: ClusterPresence?, hub: ChatHub,
                                    logger: Logger) async throws(StartupError) -> ClusterNode? {
        guard case .postgres(let database) = storage.backend, let presence else { return nil }
        let store = PostgresMessageStore(database: database)
        do {
            let feed = MessageFeed(store: store, hub: hub, startAfter: try await store.newestID(), logger: logger)
            try await presence.register()
            return ClusterNode(database: database, presence: presence, feed: feed, hub: hub, logger: logger)
        } catch {
            throw StartupError("cannot join the cluster in \(database.location): \(PostgresDatabase.describe(error))")
        }
    }

    /// Creates the data directory and proves it is writable, so that a bad path fails at start
    /// with its name rather than at the first upload.
    static func prepareDataDirectory(_ path: String) throws(StartupError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StartupError("cannot create data directory \(path): \(StartupError.reason(error))")
        }
        let probe = (path as NSString).appendingPathComponent(".write-test-\(getpid())")
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw StartupError("data directory \(path) is not writable")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }
}

import ChatCore
import ChatFTP
import ChatHTTP
import ChatStorePostgres
import ChatStoreSQLite
import ChatTLS
import Foundation
import Hummingbird
import HummingbirdCore
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
        let (logger, logFile) = try ServerLogging.start(config)
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
        let shared = storage.sharedState(config, logger: logger)
        let accounts = Accounts(
            store: storage.accounts, hasher: PasswordHasher(cost: UInt8(config.bcryptCost)), registration: config.registration,
            loginGuard: shared.loginGuard, tokenLifetimeDays: config.tokenLifetimeDays, logger: logger)
        let metricsEndpoint = config.metrics.map { _ in MetricsEndpoint() }
        let metrics = metricsEndpoint.map { ChatMetrics(factory: $0.factory) } ?? .disabled
        let cluster = try await storage.joinCluster(presence: shared.presence, logger: logger)
        let hub = ChatHub(logger: logger, metrics: metrics, bridge: cluster)
        let health = StorageHealth(dataDirectory: config.dataDirectory, logger: logger)
        let log = MessageLog(store: storage.messages, hub: hub, health: health, logger: logger)
        let chat = ChatService(
            accounts: accounts, hub: hub, log: log, messages: storage.messages, rateLimiter: shared.rateLimit,
            limits: .init(messageChars: config.messageChars, fileBytes: config.maxFileSize, outboundQueueBytes: config.outboundQueueBytes),
            serverVersion: "chatd \(Chatd.version)", logger: logger)
        let files = FileStore(
            dataDirectory: config.dataDirectory, catalog: storage.files, shared: cluster != nil,
            policy: FilePolicy(maxFileSize: config.maxFileSize, quota: config.quota), health: health, logger: logger,
            onChange: { hub.publish($0) })
        try await files.recover()
        let ftp = try await bindFTP(config, tls: tls, metrics: metrics, files: files, accounts: accounts, logger: logger)

        let ready = ReadySignal()
        let app = HTTPDoorBuilder(config: config, accounts: accounts, chat: chat, files: files, health: health, metrics: metrics,
                                  metricsEndpoint: metricsEndpoint, tls: tls).application(ready: ready, logger: logger)
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
            services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger)
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
            if let failure = listenerFailure(error, config: config, httpUp: ready.hasFired, metricsUp: metricsReady.hasFired) {
                throw failure
            }
            logger.error("server stopped with an error", metadata: ["error": "\(error)"])
            throw StartupError("server stopped: \(error)")
        }
        ready.fail()
        metricsReady.fail()
        logger.info("chatd stopped")
    }

    /// The FTP listener, bound before the services start so that a taken port fails start-up
    /// with its name; `nil` with `--ftp off`.
    private static func bindFTP(_ config: ServerConfig, tls: TLSIdentity?, metrics: ChatMetrics, files: FileStore, accounts: Accounts,
                                logger: Logger) async throws(StartupError) -> FTPServer? {
        guard var configuration = config.ftp else { return nil }
        configuration.tls = tls
        configuration.metrics = metrics
        configuration.session.tlsAvailable = tls != nil
        do {
            return try await FTPServer.bind(configuration: configuration, files: files, accounts: accounts, logger: logger)
        } catch {
            throw StartupError("cannot listen for FTP on \(configuration.host):\(configuration.port): \(StartupError.reason(error))")
        }
    }

    /// The HTTP and metrics listeners bind concurrently, as the service group starts: a failure
    /// names the one that did not come up. `nil` when both were up (the error came later).
    private static func listenerFailure(_ error: any Error, config: ServerConfig, httpUp: Bool, metricsUp: Bool) -> StartupError? {
        let metricsDown = config.metrics.flatMap { metricsUp ? nil : "\($0.host):\($0.port) (metrics)" }
        switch (httpUp, metricsDown) {
        case (true, let metrics?):
            return StartupError("cannot listen on \(metrics): \(StartupError.reason(error))")
        case (false, let metrics?):
            return StartupError("cannot listen on \(config.httpHost):\(config.httpPort) or \(metrics): \(StartupError.reason(error))")
        case (false, nil):
            return StartupError("cannot listen on \(config.httpHost):\(config.httpPort): \(StartupError.reason(error))")
        case (true, nil):
            return nil
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

import ChatCore
import FTPProtocol
import ChatTLS
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The FTP door onto the file area (PROTOCOL.md §4): a listener on the HTTP server's event loops
/// whose connections each run an ``FTPConnection``.
///
/// The listener is bound before the service group starts, so a taken port fails start-up with
/// its name, and `healthz` answering means FTP is reachable too.
package final class FTPServer: Service {
    package struct Configuration: Sendable {
        package var host = "127.0.0.1"
        package var port = 2121
        package var session = FTPSession.Configuration()
        /// Ports for passive data connections; `nil`: any free port.
        package var passivePorts: ClosedRange<Int>?
        /// How long a control connection may sit without a command, and a data connection without
        /// progress, before it is closed.
        package var idleTimeout = Duration.seconds(300)
        /// Control connections at once from one address; one more is answered 421.
        package var maxConnectionsPerAddress = 16
        /// The pause before a failed `PASS` is answered: it slows a guesser down on every
        /// connection, on top of the lockout shared with HTTP.
        package var failedLoginDelay = Duration.seconds(1)
        /// The certificate for `AUTH TLS` (explicit FTPS) on control and data connections; `nil`: plain FTP only.
        package var tls: TLSIdentity?
        package var metrics = ChatMetrics.disabled

        /// The defaults above; settings are then changed one by one.
        package init() {}
    }

    package typealias ControlChannel = NIOAsyncChannel<FTPLine, ByteBuffer>

    /// An accepted control connection, with its line decoder's progress (for `AUTH TLS`).
    package struct Control: Sendable {
        package let channel: ControlChannel
        package let readAhead: FTPLineDecoder.ReadAhead
    }

    package let configuration: Configuration
    package let localAddress: SocketAddress
    private let listener: NIOAsyncChannel<Control, Never>
    private let files: FileStore
    private let accounts: Accounts
    private let connections: ConnectionsPerAddress
    private let logger: Logger

    private init(configuration: Configuration, listener: NIOAsyncChannel<Control, Never>, files: FileStore,
                 accounts: Accounts, logger: Logger) {
        self.configuration = configuration
        self.listener = listener
        self.localAddress = listener.channel.localAddress!
        self.files = files
        self.accounts = accounts
        self.connections = ConnectionsPerAddress(limit: configuration.maxConnectionsPerAddress)
        self.logger = logger
    }

    /// Binds the listener.
    package static func bind(configuration: Configuration, files: FileStore, accounts: Accounts, logger: Logger) async throws -> FTPServer {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Clients send ABOR as TCP urgent data (RFC 959 §4.1.3); read inline, its last byte,
            // the line end, stays in the stream instead of being dropped.
            .childChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_OOBINLINE)), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let readAhead = FTPLineDecoder.ReadAhead()
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FTPLineDecoder(readAhead: readAhead)))
                    return Control(channel: try ControlChannel(wrappingChannelSynchronously: channel), readAhead: readAhead)
                }
            }
        return FTPServer(configuration: configuration, listener: listener, files: files, accounts: accounts, logger: logger)
    }

    /// Accepts connections until a graceful shutdown; then every session is told 421 and closed
    /// (a running transfer is cut), and this returns once they all have.
    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await listener.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await control in inbound {
                            group.addTask { await self.serve(control) }
                        }
                    } catch is CancellationError {
                        // Another service failed first (the HTTP port was taken, say): that
                        // failure is the one the operator must read, so none is added here.
                    } catch {
                        logger.error("the FTP listener failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        } onGracefulShutdown: {
            self.listener.channel.close(promise: nil)
        }
    }

    private func serve(_ accepted: Control) async {
        let control = accepted.channel
        guard let peer = control.channel.remoteAddress, let local = control.channel.localAddress else {
            try? await control.channel.close()
            return
        }
        let host = peer.ipAddress ?? "?"
        guard connections.acquire(host) else {
            logger.notice("too many FTP connections from one address", metadata: ["address": "\(host)"])
            let reply = FTPReply.serviceNotAvailable("Too many connections from your address; try again later.")
            try? await control.channel.writeAndFlush(reply.wire).get()
            try? await control.channel.close()
            return
        }
        defer { connections.release(host) }
        configuration.metrics.ftpSessions.increment()
        defer { configuration.metrics.ftpSessions.decrement() }
        let connection = FTPConnection(control: control, readAhead: accepted.readAhead, peer: peer, local: local, configuration: configuration,
                                       files: files, accounts: accounts, logger: logger)
        await connection.run()
    }
}

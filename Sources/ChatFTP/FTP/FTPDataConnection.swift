import ChatCore
import FTPProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One FTP data connection: the socket a listing or a file travels on, opened per transfer
/// (RFC 959 stream mode: the end of the connection is the end of the file).
///
/// A transfer can be cut short from outside, by `ABOR`, by the control connection ending, or by
/// the data connection's idle timeout. All of them close the channel, and a closed channel's
/// inbound stream simply ends, just as when the client finishes an upload. So whoever cuts it
/// marks it first, and the transfer asks ``wasCutShort`` before it commits anything.
///
/// A data channel is accepted or connected with reads off, and reads only once ``start(tls:)``
/// has run: with `PROT P` the TLS handler must be in front of the first byte the client sends,
/// and a passive connection is usually accepted before the command that tells how to protect it.
package final class FTPDataConnection: Sendable {
    package typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    package let channel: Channel
    private let state = Mutex(State())

    private struct State {
        var cutShort = false
        var isProtected = false
    }

    fileprivate init(channel: Channel) {
        self.channel = channel
    }

    package var wasCutShort: Bool { state.withLock { $0.cutShort } }

    /// Whether TLS runs on it (`PROT P`): the bytes then go through the TLS handler, so a file is
    /// sent from buffers, not with `sendfile`, and the end of an upload is TLS's close_notify.
    package var isProtected: Bool { state.withLock { $0.isProtected } }

    /// Starts reading, behind a TLS server handler made from `tls` if it is given (the FTP server is
    /// the TLS server on data connections in active mode too, RFC 4217).
    package func start(tls: NIOSSLContext?) async throws {
        state.withLock { $0.isProtected = tls != nil }
        let channel = self.channel.channel
        try await channel.eventLoop.submit {
            if let tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
            }
        }.flatMap {
            channel.setOption(ChannelOptions.autoRead, value: true)
        }.get()
    }

    /// Marks the transfer as not finished and closes the connection.
    package func cut() {
        state.withLock { $0.cutShort = true }
        channel.channel.close(promise: nil)
    }

    /// Closes the connection and returns once it is closed: under TLS that is after our
    /// close_notify went out and the client's came back, or the client closed, or NIOSSL's
    /// shutdown timeout passed. A client that closes without answering close_notify after a
    /// download is no error: every byte was already written.
    package func close() async {
        try? await channel.channel.close()
        try? await channel.channel.closeFuture.get()
    }

    /// Sets up an accepted or connected data channel on its event loop: an idle timeout that cuts
    /// the transfer (also one never started), then the async wrapper.
    fileprivate static func wrap(_ channel: any NIOCore.Channel, idleTimeout: TimeAmount) throws -> FTPDataConnection {
        let box = Box()
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
        try channel.pipeline.syncOperations.addHandler(IdleCutter(box: box))
        let connection = FTPDataConnection(channel: try Channel(wrappingChannelSynchronously: channel))
        box.connection.withLock { $0 = connection }
        return connection
    }

    /// Lets the idle handler, which exists before the connection object, reach it.
    fileprivate final class Box: Sendable {
        let connection = Mutex<FTPDataConnection?>(nil)
    }

    /// Cuts the transfer when neither a read nor a write completed for the idle timeout.
    private final class IdleCutter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let box: Box

        init(box: Box) { self.box = box }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is IdleStateHandler.IdleStateEvent {
                box.connection.withLock { $0 }?.cut()
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: active mode

    /// Connects to the client for `PORT`/`EPRT`; the target was checked against the bounce rule
    /// by the session.
    package static func connect(to target: SocketAddress, on eventLoop: any EventLoop, idleTimeout: TimeAmount) async throws -> FTPDataConnection {
        try await ClientBootstrap(group: eventLoop)
            .connectTimeout(min(idleTimeout, .seconds(30)))
            .channelOption(.autoRead, value: false)
            .connect(to: target) { channel in
                channel.eventLoop.makeCompletedFuture { try wrap(channel, idleTimeout: idleTimeout) }
            }
    }

    // MARK: passive mode

    /// A listener opened for `PASV`/`EPSV`. It accepts one data connection, and only from the
    /// control connection's host (RFC 2577 §3): anyone else who finds the port is turned away
    /// and logged, and the listener keeps waiting for the client.
    package final class PassiveListener: Sendable {
        private typealias Listener = NIOAsyncChannel<FTPDataConnection?, Never>
        private let listener: Listener
        private let unclaimed: Unclaimed
        package let address: SocketAddress

        private init(listener: Listener, unclaimed: Unclaimed, address: SocketAddress) {
            self.listener = listener
            self.unclaimed = unclaimed
            self.address = address
        }

        /// Connections accepted that no transfer has taken (yet). They do not read before a
        /// transfer starts, so they would not notice the client leaving: whatever is left when
        /// the listener is done with is closed, not left to the idle timeout.
        private final class Unclaimed: Sendable {
            private let connections = Mutex<[FTPDataConnection]>([])

            func add(_ connection: FTPDataConnection) {
                connections.withLock { $0.append(connection) }
            }

            func claim(_ connection: FTPDataConnection) {
                connections.withLock { $0.removeAll { $0 === connection } }
            }

            func closeAll() {
                let left = connections.withLock { connections in
                    defer { connections = [] }
                    return connections
                }
                for connection in left {
                    connection.channel.channel.close(promise: nil)
                }
            }
        }

        /// Opens a listener on `host` (the control connection's local address), on a free port
        /// from `ports`, tried from a random start, or on any free port.
        package static func open(host: SocketAddress, ports: ClosedRange<Int>?, controlPeer: SocketAddress, idleTimeout: TimeAmount,
                         on eventLoop: any EventLoop, logger: Logger) async -> PassiveListener? {
            guard let ip = host.ipAddress else { return nil }
            let candidates: [Int]
            if let ports {
                let start = Int.random(in: ports)
                candidates = Array(start...ports.upperBound) + Array(ports.lowerBound..<start)
            } else {
                candidates = [0]
            }
            for port in candidates {
                let unclaimed = Unclaimed()
                do {
                    let listener = try await ServerBootstrap(group: eventLoop)
                        .serverChannelOption(.backlog, value: 4)
                        // The server closes data connections first, leaving them in TIME-WAIT;
                        // without this a range of N ports would allow N transfers a minute.
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .childChannelOption(.autoRead, value: false)
                        .bind(host: ip, port: port) { channel in
                            channel.eventLoop.makeCompletedFuture { () -> FTPDataConnection? in
                                guard let remote = channel.remoteAddress, FTPAddress.isSameHost(remote, controlPeer) else {
                                    logger.warning("refused a passive data connection from another host",
                                                   metadata: ["from": "\(channel.remoteAddress?.description ?? "?")",
                                                              "control": "\(controlPeer)"])
                                    channel.close(promise: nil)
                                    return nil
                                }
                                let connection = try wrap(channel, idleTimeout: idleTimeout)
                                unclaimed.add(connection)
                                return connection
                            }
                        }
                    guard let address = listener.channel.localAddress else {
                        listener.channel.close(promise: nil)
                        return nil
                    }
                    return PassiveListener(listener: listener, unclaimed: unclaimed, address: address)
                } catch {
                    continue
                }
            }
            logger.warning("no free passive port", metadata: ["range": "\(ports.map { "\($0)" } ?? "any")"])
            return nil
        }

        /// Waits for the client's data connection, then stops listening. Throws if none comes
        /// within `timeout` or the listener is closed.
        package func accept(timeout: Duration) async throws -> FTPDataConnection {
            defer { unclaimed.closeAll() }
            let connection = try await listener.executeThenClose { inbound in
                try await withThrowingTaskGroup(of: FTPDataConnection.self) { group in
                    group.addTask {
                        for try await candidate in inbound {
                            if let candidate { return candidate }
                        }
                        throw ChannelError.ioOnClosedChannel
                    }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        throw ChannelError.connectPending
                    }
                    defer { group.cancelAll() }
                    return try await group.next()!
                }
            }
            unclaimed.claim(connection)
            return connection
        }

        /// Stops listening and closes connections no transfer took; a waiting
        /// ``accept(timeout:)`` throws.
        package func close() {
            listener.channel.close(promise: nil)
            unclaimed.closeAll()
        }
    }
}

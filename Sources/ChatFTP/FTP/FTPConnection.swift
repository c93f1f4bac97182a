import ChatCore
import FTPProtocol
import AsyncAlgorithms
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The thin I/O layer around one ``FTPSession``: reads command lines, feeds them and the results
/// of its I/O to the session, and carries out the actions that come back.
///
/// Everything the session sees arrives as an ``Event`` through one loop, in order: command lines
/// (read with backpressure, one at a time), login results, transfer progress, idle ticks and
/// shutdown. Slow work (a password check, a transfer) runs in a child task and reports back as
/// an event, so `ABOR`, `STAT` and `NOOP` are answered while a transfer runs.
package struct FTPConnection {
    package enum Event: Sendable {
        case line(FTPLine)
        case inputEnded
        case login(Result<Account, Accounts.LoginError>)
        case dataOpened
        case dataFailed
        case finished(FTPSession.Outcome)
        case tick
        case shutdown
    }

    package let control: FTPServer.ControlChannel
    package let readAhead: FTPLineDecoder.ReadAhead
    package let peer: SocketAddress
    package let local: SocketAddress
    package let configuration: FTPServer.Configuration
    package let files: FileStore
    package let accounts: Accounts
    package let logger: Logger

    package init(control: FTPServer.ControlChannel, readAhead: FTPLineDecoder.ReadAhead, peer: SocketAddress, local: SocketAddress,
         configuration: FTPServer.Configuration, files: FileStore, accounts: Accounts, logger: Logger) {
        self.control = control
        self.readAhead = readAhead
        self.peer = peer
        self.local = local
        self.configuration = configuration
        self.files = files
        self.accounts = accounts
        var logger = logger
        logger[metadataKey: "ftp"] = "\(peer.ipAddress ?? "?"):\(peer.port ?? 0)"
        self.logger = logger
    }

    /// What the loop keeps beside the session: the resources its actions opened. Touched only by
    /// the loop; a class so the loop's helpers share it without `inout`.
    private final class Resources {
        var session: FTPSession
        var area: FTPFileArea
        var passive: FTPDataConnection.PassiveListener?
        var transfer: TransferHandle?
        var lastCommand = ContinuousClock.now
        /// Lines read from the control connection so far, to compare with the decoder's count.
        var linesSeen = 0
        var closing = false

        init(session: FTPSession, area: FTPFileArea) {
            self.session = session
            self.area = area
        }
    }

    package func run() async {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let resources = Resources(
            session: FTPSession(configuration: configuration.session, controlPeer: peer),
            area: FTPFileArea(files: files, account: nil, metrics: configuration.metrics, logger: logger))
        let heartbeat = Heartbeat()
        logger.debug("ftp connection opened")
        // The watchdog is cancelled when the loop ends; the transfers are not: cancellation would
        // interrupt their clean-up (closing files, removing a partial upload). Cutting their data
        // connection ends them promptly instead.
        let watchdog = Task { await watch(heartbeat: heartbeat, sink: sink) }
        defer { watchdog.cancel() }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                do {
                    try await control.executeThenClose { inbound, _ in
                        try await send(.ready)
                        let lines = chain(inbound.map { Event.line($0) }, [Event.inputEnded].async)
                        for try await event in merge(lines, events) {
                            heartbeat.beat()
                            let actions = react(to: event, resources, sink: sink)
                            try await perform(actions, resources, group: &group, sink: sink)
                            if resources.closing { break }
                        }
                    }
                } catch {
                    logger.debug("ftp connection ended", metadata: ["error": "\(error)"])
                }
                resources.transfer?.abort()
                resources.passive?.close()
                sink.finish()
                watchdog.cancel()
            }
        } onGracefulShutdown: {
            sink.yield(.shutdown)
        }
        logger.debug("ftp connection closed")
    }

    /// Turns an event into the session's actions.
    private func react(to event: Event, _ resources: Resources, sink: AsyncStream<Event>.Continuation) -> [FTPSession.Action] {
        switch event {
        case .line(.tooLong):
            resources.lastCommand = .now
            resources.linesSeen += 1
            return [.reply(.lineTooLong)]
        case .line(.line(let bytes)):
            resources.lastCommand = .now
            resources.linesSeen += 1
            switch FTPCommand.parse(bytes.readableBytesView) {
            case .success(let command): return resources.session.receive(command)
            case .failure(let reply): return resources.session.isClosing ? [] : [.reply(reply)]
            }
        case .inputEnded:
            resources.closing = true
            return []
        case .login(.success(let account)):
            resources.area = FTPFileArea(files: files, account: account, metrics: configuration.metrics, logger: logger)
            logger.info("ftp login", metadata: ["user": "\(account.name)"])
            return resources.session.loginVerified(true)
        case .login(.failure(.locked(let seconds))):
            return resources.session.loginLocked(retryAfterSeconds: seconds)
        case .login(.failure):
            return resources.session.loginVerified(false)
        case .dataOpened:
            return resources.session.dataConnectionOpened()
        case .dataFailed:
            resources.transfer = nil
            resources.lastCommand = .now
            return resources.session.dataConnectionFailed()
        case .finished(let outcome):
            resources.transfer = nil
            resources.lastCommand = .now
            return resources.session.finished(outcome)
        case .tick:
            guard ContinuousClock.now - resources.lastCommand >= configuration.idleTimeout else { return [] }
            return resources.session.idleTimedOut()
        case .shutdown:
            return resources.session.shuttingDown()
        }
    }

    private func perform(_ initial: [FTPSession.Action], _ resources: Resources, group: inout DiscardingTaskGroup,
                         sink: AsyncStream<Event>.Continuation) async throws {
        var actions = initial[...]
        while let action = actions.popFirst() {
            switch action {
            case .reply(let reply):
                try await send(reply)
            case .secureControl(let reply):
                try await secure(after: reply, linesSeen: resources.linesSeen)
            case .close:
                resources.closing = true
            case .verifyLogin(let user, let password):
                let address = peer.ipAddress ?? "?"
                let delay = configuration.failedLoginDelay
                group.addTask { [accounts] in
                    let result: Result<Account, Accounts.LoginError>
                    do throws(Accounts.LoginError) {
                        result = .success(try await accounts.verify(username: user, password: password, address: address))
                    } catch {
                        if case .invalidCredentials = error { try? await Task.sleep(for: delay) }
                        result = .failure(error)
                    }
                    sink.yield(.login(result))
                }
            case .openPassive:
                resources.passive?.close()
                resources.passive = await FTPDataConnection.PassiveListener.open(
                    host: local, ports: configuration.passivePorts, controlPeer: peer,
                    idleTimeout: .nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1))),
                    on: control.channel.eventLoop, logger: logger)
                if let listener = resources.passive {
                    actions.append(contentsOf: resources.session.passiveListening(on: listener.address))
                } else {
                    actions.append(contentsOf: resources.session.passiveFailed())
                }
            case .transfer(let transfer, let endpoint, let protection):
                let listener = resources.passive
                resources.passive = nil
                let handle = TransferHandle(listener: listener)
                resources.transfer = handle
                startTransfer(transfer, endpoint: endpoint, protection: protection, handle: handle, area: resources.area,
                              group: &group, sink: sink)
            case .abortTransfer:
                resources.transfer?.abort()
            case .perform(let operation):
                let outcome = await resources.area.perform(operation)
                actions.append(contentsOf: resources.session.finished(outcome))
            }
        }
    }

    private func startTransfer(_ transfer: FTPSession.Transfer, endpoint: FTPSession.DataEndpoint,
                               protection: FTPSession.DataProtection, handle: TransferHandle, area: FTPFileArea,
                               group: inout DiscardingTaskGroup, sink: AsyncStream<Event>.Continuation) {
        let idleTimeout = configuration.idleTimeout
        let eventLoop = control.channel.eventLoop
        let identity = configuration.tls
        group.addTask {
            let prepared: FTPFileArea.Prepared
            do throws(FileError) {
                prepared = try await area.prepare(transfer)
            } catch {
                handle.abort()
                sink.yield(.finished(.failed(FTPReply(refusing: error))))
                return
            }
            let data: FTPDataConnection
            do {
                switch endpoint {
                case .passive:
                    guard let listener = handle.listener else { throw ChannelError.ioOnClosedChannel }
                    data = try await listener.accept(timeout: idleTimeout)
                case .active(let target):
                    data = try await FTPDataConnection.connect(
                        to: target, on: eventLoop, idleTimeout: .nanoseconds(Int64(idleTimeout / .nanoseconds(1))))
                }
            } catch {
                await prepared.discard()
                sink.yield(.dataFailed)
                return
            }
            do {
                // The context is read now, not when the session began: a reloaded certificate
                // applies to the next data connection.
                switch protection {
                case .clear: try await data.start(tls: nil)
                case .private:
                    guard let identity else { throw ChannelError.operationUnsupported }
                    try await data.start(tls: identity.context)
                }
            } catch {
                data.cut()
                await prepared.discard()
                sink.yield(.dataFailed)
                return
            }
            handle.opened(data)
            sink.yield(.dataOpened)
            sink.yield(.finished(await area.run(prepared, on: data)))
        }
    }

    /// Ticks for the idle timeout, and closes the connection outright if the loop itself stops
    /// moving for longer than that (a client that sends commands but never reads the replies
    /// leaves the loop waiting on a full socket).
    private func watch(heartbeat: Heartbeat, sink: AsyncStream<Event>.Continuation) async {
        let interval = min(max(configuration.idleTimeout / 4, .milliseconds(100)), .seconds(5))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            if ContinuousClock.now - heartbeat.last > configuration.idleTimeout + interval * 2 {
                logger.notice("ftp control connection stuck; closing it")
                control.channel.close(promise: nil)
                return
            }
            sink.yield(.tick)
        }
    }

    private func send(_ reply: FTPReply) async throws {
        try await control.channel.writeAndFlush(reply.wire).get()
    }

    /// Sends `reply` (`234`) in clear, then puts TLS at the front of the control pipeline.
    ///
    /// The handler is added in the write's completion, which runs on the event loop in the same
    /// step as the write itself, so before anything more is read; the client sends its ClientHello
    /// only once it has the 234, so that is the first byte the handler sees. Both the write and
    /// the callback are set up from the event loop: a callback attached from elsewhere to a write
    /// that already completed would run only later, possibly after the ClientHello was read.
    ///
    /// Lines the client sent after `AUTH` without waiting would otherwise be taken as sent under
    /// TLS: if the decoder read anything beyond the `AUTH` line, the connection is closed instead.
    private func secure(after reply: FTPReply, linesSeen: Int) async throws {
        guard let identity = configuration.tls else { throw ChannelError.operationUnsupported }
        let channel = control.channel
        let readAhead = readAhead
        let logger = logger
        try await channel.eventLoop.flatSubmit {
            channel.writeAndFlush(reply.wire).flatMapThrowing {
                guard readAhead.isExhausted(afterLines: linesSeen) else {
                    logger.warning("ftp client sent more in clear after AUTH TLS; closing the connection")
                    throw Failure.cleartextAfterAUTH
                }
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: identity.context), position: .first)
            }
        }.get()
        logger.debug("ftp control connection under TLS")
    }

    /// Why the server ends a control connection on its own.
    package enum Failure: Error {
        /// Bytes in clear followed `AUTH TLS` before its 234: a command injection attempt, or a
        /// client that does not wait for the reply.
        case cleartextAfterAUTH
    }
}

/// The running transfer's data connection (or the listener it waits on), so that `ABOR`, the
/// end of the control connection or a shutdown can cut it from the loop.
package final class TransferHandle: Sendable {
    package let listener: FTPDataConnection.PassiveListener?
    private let state = Mutex<(data: FTPDataConnection?, aborted: Bool)>((nil, false))

    package init(listener: FTPDataConnection.PassiveListener?) {
        self.listener = listener
    }

    package func opened(_ data: FTPDataConnection) {
        let aborted = state.withLock { state in
            state.data = data
            return state.aborted
        }
        if aborted { data.cut() }
    }

    package func abort() {
        let data = state.withLock { state in
            state.aborted = true
            return state.data
        }
        listener?.close()
        data?.cut()
    }
}

/// When the connection's loop last handled an event, for the watchdog.
package final class Heartbeat: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    package var last: ContinuousClock.Instant { instant.withLock { $0 } }

    package func beat() {
        instant.withLock { $0 = .now }
    }
}

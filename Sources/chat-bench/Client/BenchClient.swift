import Foundation
import NIOCore
import NIOPosix

/// The load generator: every benchmark session on one NIO event loop (one thread, pinned to its
/// own CPU when asked), so the generator's cost is a known single core and its bookkeeping needs
/// no locks.
final class BenchClient: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let loop: any EventLoop
    let stats = BenchStats()
    private let host: String
    /// The HTTP ports of chatd's nodes: session `i` connects to `ports[i % ports.count]`.
    let ports: [Int]
    /// Touched only on ``loop``.
    private(set) var connections: [BenchConnection] = []
    private var channels: [any Channel] = []

    init(host: String = "127.0.0.1", ports: [Int]) {
        precondition(!ports.isEmpty)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        self.host = host
        self.ports = ports
    }

    /// The node (index into ``ports``) session `index` is connected to.
    func node(ofSession index: Int) -> Int {
        index % ports.count
    }

    /// Runs `body` on the generator's loop and returns its result.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws -> T {
        try await loop.submit(body).get()
    }

    /// Opens one session per entry of `tokens`, keeping at most `inFlight` of them between
    /// "connecting" and "welcomed", the way a crowd of real clients arrives. Returns when every
    /// session is welcomed or has failed, or when `timeout` passes. Sessions go to the nodes
    /// round-robin by their index (``node(ofSession:)``).
    func connect(tokens: [String], inFlight: Int, timeout: TimeInterval) async throws {
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        let first = try await onLoop { self.connections.count }
        let deadline = Date().addingTimeInterval(timeout)
        for (offset, token) in tokens.enumerated() {
            let index = first + offset
            while try await pending(launched: offset + 1 + first) > inFlight {
                guard Date() < deadline else { throw BenchError("timed out opening sessions") }
                try await Task.sleep(nanoseconds: 500_000)
            }
            let connection = BenchConnection(index: index, stats: stats)
            let host = host, port = ports[node(ofSession: index)]
            try await onLoop { self.connections.append(connection) }
            let connect = bootstrap.channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpgradeHandler(host: host, port: port, token: token, connection: connection))
                }
            }.connect(host: host, port: port)
            connect.whenComplete { result in
                switch result {
                case .success(let channel): self.channels.append(channel)
                case .failure(let error): connection.failed(error)
                }
            }
        }
        while try await pending(launched: first + tokens.count) > 0 {
            guard Date() < deadline else { throw BenchError("timed out waiting for welcomes") }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
    }

    /// Waits until `expected` join notices have arrived (a crowd of N one-session accounts makes
    /// N(N−1)/2), so that they do not flow into what is measured next; at most `timeout` seconds.
    func settleJoinNotices(expected: Int, timeout: TimeInterval) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try await onLoop({ self.stats.joinNotices }) < expected, Date() < deadline {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        try await Task.sleep(nanoseconds: 200_000_000)
    }

    /// Sessions launched that are neither welcomed nor failed.
    private func pending(launched: Int) async throws -> Int {
        try await onLoop { launched - self.stats.welcomes - self.stats.failureCount }
    }

    /// Closes every session with a normal close and shuts the generator down.
    func shutdown() async {
        _ = try? await onLoop {
            for connection in self.connections { connection.close() }
        }
        try? await Task.sleep(nanoseconds: 300_000_000)
        _ = try? await onLoop {
            for channel in self.channels { channel.close(promise: nil) }
        }
        try? await group.shutdownGracefully()
    }
}

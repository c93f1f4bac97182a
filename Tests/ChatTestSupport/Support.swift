import Foundation
import Logging
import NIOCore
import NIOPosix
import Shared
import ChatCore
import ChatStoreSQLite
import Synchronization

/// A fresh data directory under the system temporary directory.
package func makeTemporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "chatd-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

package let quietLogger = Logger(label: "chatd-tests") { _ in SwiftLogNoOpLogHandler() }

/// The chat core wired as the server wires it (real SQLite file, real hub, real message log),
/// with no sockets: sessions are read straight from their outbound queues.
package struct ChatCore {
    package let database: SQLiteDatabase
    package let accounts: Accounts
    package let chat: ChatService
    package let logTask: Task<Void, any Error>

    package init(rate: RateLimiter.Rate = .unlimited, messageChars: Int = 4000) throws {
        let directory = makeTemporaryDirectory()
        database = try SQLiteDatabase(dataDirectory: directory, logger: quietLogger)
        accounts = Accounts(store: SQLiteAccountStore(database: database), hasher: PasswordHasher(cost: 10), registration: .open,
                            throttle: LoginThrottle(), logger: quietLogger)
        let hub = ChatHub(logger: quietLogger)
        let messages = SQLiteMessageStore(database: database)
        let log = MessageLog(store: messages, hub: hub, health: StorageHealth(dataDirectory: directory, logger: quietLogger), logger: quietLogger)
        chat = ChatService(accounts: accounts, hub: hub, log: log, messages: messages, rateLimiter: RateLimiter(rate: rate),
                           limits: .init(messageChars: messageChars, fileBytes: 1 << 30, outboundQueueBytes: 1 << 20),
                           serverVersion: "test", logger: quietLogger)
        logTask = Task { try await log.run() }
    }

    /// Creates an account directly in the store (no bcrypt cost) and returns an identity for it.
    package func user(_ name: String) async throws -> Accounts.Identity {
        let account = try await accounts.store.create(name: name, passwordHash: "x", nowMillis: Timestamp.nowMillis())
        return Accounts.Identity(account: account, tokenHash: Data(name.utf8))
    }

    /// Opens a session and returns it with its welcome.
    package func connect(_ identity: Accounts.Identity, queueLimit: Int = 1 << 20) async throws -> (ChatSession, ServerFrame.Welcome) {
        let session = ChatSession(identity: identity, queueLimit: queueLimit, logger: quietLogger) { _ in }
        let (frame, _) = try await chat.open(session)
        guard case .welcome(let welcome) = try decode(frame) else { throw TestFailure("first frame was not welcome") }
        return (session, welcome)
    }

    package func send(_ json: String, from session: ChatSession) async {
        await chat.handle(text: json, from: session)
    }
}

package struct TestFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

package func decode(_ buffer: ByteBuffer) throws -> ServerFrame {
    try JSONDecoder().decode(ServerFrame.self, from: Data(buffer.readableBytesView))
}

package func decode(_ frame: WireFrame) throws -> ServerFrame {
    try decode(frame.payload)
}

extension ChatSession {
    /// The next `count` frames this session was sent, waiting at most `seconds`.
    package func frames(_ count: Int, within seconds: Double = 5) async throws -> [ServerFrame] {
        var result: [ServerFrame] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while result.count < count {
            let drain = testDrain
            let next = try await withThrowingTaskGroup(of: OutboundQueueState.Next?.self) { group in
                group.addTask { await drain.next() }
                group.addTask {
                    try await Task.sleep(until: deadline)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            switch next {
            case .write(let frames)?: result += try frames.map { try decode(WireFrame.payload(of: $0.bytes)) }
            case nil: throw TestFailure("timed out with \(result.count) of \(count) frames: \(result)")
            case let other?: throw TestFailure("queue ended with \(other) after \(result)")
            }
        }
        return result
    }

    package func frame() async throws -> ServerFrame {
        try await frames(1)[0]
    }

    /// The test's writer for this session, attached on first use (what was queued before is its
    /// first batch).
    package var testDrain: TestDrain {
        TestDrain.registry.withLock { drains in
            if let drain = drains[id] { return drain }
            let drain = TestDrain(queue: queue)
            drains[id] = drain
            attach(drain)
            return drain
        }
    }
}

/// A session writer for tests: instead of a socket, each batch, close or end the queue gives it is
/// kept for ``next()``. It is scheduled and drains exactly as the WebSocket door's `ChatEndpoint` does.
package final class TestDrain: OutboundDrain {
    package static let registry = Mutex<[UInt64: TestDrain]>([:])

    package let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    private let queue: OutboundQueue
    private let state = Mutex<(taken: [OutboundQueueState.Next], waiter: CheckedContinuation<OutboundQueueState.Next?, Never>?)>(([], nil))

    package init(queue: OutboundQueue) {
        self.queue = queue
    }

    package func drain() {
        while true {
            let next = queue.takeForWriting()
            if case .wait = next { return }
            if case .write(let frames) = next { queue.written(frames.reduce(0) { $0 + $1.bytes.readableBytes }) }
            hand(next)
            if case .write = next { continue }
            return
        }
    }

    /// What the queue gave next, waiting for it; `nil` if the waiting task is cancelled.
    package func next() async -> OutboundQueueState.Next? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> OutboundQueueState.Next? in
                    if !state.taken.isEmpty { return state.taken.removeFirst() }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume(returning: nil)
        }
    }

    private func hand(_ next: OutboundQueueState.Next) {
        let waiter = state.withLock { state -> CheckedContinuation<OutboundQueueState.Next?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.taken.append(next)
            return nil
        }
        waiter?.resume(returning: next)
    }
}

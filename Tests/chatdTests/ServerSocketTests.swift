import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Shared
import Synchronization
import GRDB
import Testing
@testable import chatd
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatStorePostgres
@testable import ChatTLS
@testable import ChatHTTP
@testable import ChatFTP
import ChatTestSupport


/// A whole chatd in this process, listening on a free port with its own data directory.
struct TestServer {
    let handle: ChatServer.Handle
    let task: Task<Void, any Error>
    let dataDirectory: String

    var baseURL: String { "http://127.0.0.1:\(handle.httpPort)" }

    static func start(_ configure: (inout ServerConfig) -> Void = { _ in }) async throws -> TestServer {
        var config = ServerConfig()
        config.dataDirectory = makeTemporaryDirectory()
        config.httpPort = 0
        config.ftp?.port = 0
        config.logToStderr = false
        config.logLevel = .warning
        config.rate = .unlimited
        configure(&config)
        let (ready, continuation) = AsyncStream<ChatServer.Handle>.makeStream()
        let frozen = config
        let task = Task {
            defer { continuation.finish() }
            try await ChatServer.run(config: frozen, handleSignals: false) { continuation.yield($0) }
        }
        for await handle in ready {
            return TestServer(handle: handle, task: task, dataDirectory: frozen.dataDirectory)
        }
        try await task.value
        throw TestFailure("server stopped before it was ready")
    }

    func stop() async throws {
        await handle.shutdown()
        try await task.value
    }

    func login(_ name: String, _ password: String) async throws -> LoginResponse {
        var request = HTTPClientRequest(url: baseURL + "/api/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(LoginRequest(username: name, password: password))))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw TestFailure("login answered \(response.status)") }
        return try JSONDecoder().decode(LoginResponse.self, from: Data(body.readableBytesView))
    }
}

@Suite("chatd over real sockets", .serialized)
struct ServerSocketTests {
    @Test func loginChatAndGracefulShutdownClosesWith1001() async throws {
        let server = try await TestServer.start()
        let login = try await server.login("Alice", "correct horse")
        #expect(login.created && login.username == "Alice")
        #expect(try await server.login("alice", "correct horse").username == "Alice", "names are case-insensitive")

        let received = Mutex<[ServerFrame]>([])
        let close = try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(server.handle.httpPort)/ws?token=\(login.token)", logger: quietLogger
        ) { inbound, outbound, _ in
            var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            func next() async throws -> ServerFrame? {
                guard case .text(let text)? = try await frames.next() else { return nil }
                let frame = try JSONDecoder().decode(ServerFrame.self, from: Data(text.utf8))
                received.withLock { $0.append(frame) }
                return frame
            }
            _ = try await next()
            try await outbound.write(.text(#"{"type":"broadcast","message":"hello","client_id":"x1"}"#))
            _ = try await next()
            Task { await server.handle.shutdown() }
            while try await next() != nil {}
        }
        #expect(close?.closeCode == .goingAway)
        try await server.task.value
        let frames = received.withLock { $0 }
        guard frames.count == 2, case .welcome(let welcome) = frames[0], case .message(let message) = frames[1] else {
            throw TestFailure("unexpected frames \(frames)")
        }
        #expect(welcome.username == "Alice" && welcome.users == [UserPresence(name: "Alice", online: true)])
        #expect(message.message == "hello" && message.clientID == "x1" && message.id >= 1)
    }

    @Test func restartKeepsHistoryAndTokens() async throws {
        var server = try await TestServer.start()
        let login = try await server.login("bob", "password-1")
        let session = ChatSession(identity: try #require(try await server.handle.chat.accounts.authenticate(token: login.token)),
                                  queueLimit: 1 << 20, logger: quietLogger) { _ in }
        _ = try await server.handle.chat.open(session)
        await server.handle.chat.handle(text: #"{"type":"broadcast","message":"kept"}"#, from: session)
        _ = try await session.frame()
        server.handle.chat.close(session)
        try await server.stop()

        let directory = server.dataDirectory
        server = try await TestServer.start { $0.dataDirectory = directory }
        let identity = try await server.handle.chat.accounts.authenticate(token: login.token)
        #expect(identity?.account.name == "bob", "the token survives a restart")
        let history = try await server.handle.chat.messages.history(.broadcast, before: nil, limit: 10, maxBytes: 1 << 20)
        #expect(history.messages.map(\.message) == ["kept"])
        try await server.stop()
    }

    @Test func passwordsAndTokensAreStoredOnlyAsHashes() async throws {
        let server = try await TestServer.start()
        let login = try await server.login("carol", "hunter2hunter2")
        let store = try #require(server.handle.chat.accounts.store as? SQLiteAccountStore)
        let stored = try await store.database.pool.read { db in
            (try String.fetchOne(db, sql: "SELECT password_hash FROM accounts WHERE name_key = 'carol'"),
             try Data.fetchAll(db, sql: "SELECT hash FROM tokens"))
        }
        #expect(stored.0?.hasPrefix("$2b$10$") == true, "bcrypt with cost 10")
        #expect(stored.1 == [SessionToken.hash(login.token)])
        try await server.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory)
            .filter { $0.hasPrefix("chatd.sqlite") }
        #expect(!files.isEmpty)
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: server.dataDirectory + "/" + file))
            #expect(bytes.range(of: Data(login.token.utf8)) == nil, "token in \(file)")
            #expect(bytes.range(of: Data("hunter2hunter2".utf8)) == nil, "password in \(file)")
        }
    }
}

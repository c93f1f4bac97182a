import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Shared
import Testing
@testable import chatd
@testable import ChatCore
@testable import ChatHTTP
import ChatTestSupport


/// RFC 6455 conformance of the WebSocket stack chatd serves `/ws` with, checked by the
/// Autobahn|Testsuite fuzzing client against an echo endpoint.
///
/// The endpoint is chatd's own: ``WebSocketUpgradeChannel`` and ``WebSocketConnection`` with the
/// chat's frame and message limit and close timeout, so a change to chatd's WebSocket handling
/// changes what is tested. Only the ``WebSocketEndpoint`` differs: Autobahn needs an echo, chatd
/// speaks JSON.
///
/// Every case runs, the slow performance section 9 included (about 20 of the run's 35 seconds):
/// short enough for every test run, so `make conformance` runs the same set on its own.
@Suite("WebSocket conformance (Autobahn|Testsuite)", .serialized)
struct WebSocketConformanceTests {
    @Test(.timeLimit(.minutes(5)))
    func autobahnFuzzingClientFindsNoFailure() async throws {
        let wstest = try Wstest.locate()
        for exclusion in AutobahnSpec.excluded {
            print("autobahn: excluded \(exclusion.cases.joined(separator: " ")): \(exclusion.reason)")
        }

        let server = try await EchoServer.start()
        defer { server.task.cancel() }
        let directory = URL(fileURLWithPath: makeTemporaryDirectory())
        let reports = directory.appendingPathComponent("reports")
        let spec = directory.appendingPathComponent("fuzzingclient.json")
        try AutobahnSpec(url: "ws://127.0.0.1:\(server.port)/ws", outdir: reports.path).write(to: spec)

        let started = ContinuousClock.now
        let deadline = Duration.seconds(240)
        let run = try await wstest.run(["-m", "fuzzingclient", "-s", spec.path], in: directory, deadline: deadline)
        let elapsed = ContinuousClock.now - started
        guard run.status == 0, FileManager.default.fileExists(atPath: reports.appendingPathComponent("index.json").path) else {
            Issue.record("wstest \(run.timedOut ? "was killed after \(deadline)" : "exited with \(run.status)") without a report:\n\(run.outputTail)")
            return
        }

        let results = try AutobahnResults(outdir: reports, maxFrameSize: ChatWebSocket.maxFrameSize)
        print("autobahn: \(results.cases.count) cases in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
        print(results.table)
        let reset = results.cases.filter { results.verdict(of: $0).column == AutobahnResults.refusedWithReset }
        if !reset.isEmpty {
            print("autobahn: refused with a TCP reset before the client read the 1009 close: \(reset.map(\.id).joined(separator: " "))")
        }
        let problems = results.cases.compactMap { results.verdict(of: $0).problem }
        if results.cases.isEmpty {
            Issue.record("the report in \(reports.path) lists no case:\n\(run.outputTail)")
        } else if problems.isEmpty {
            try? FileManager.default.removeItem(at: directory)
        } else {
            Issue.record("\(problems.count) Autobahn case(s) failed (report in \(reports.path)):\n\(problems.joined(separator: "\n"))")
        }
    }
}

/// The in-process echo endpoint: chatd's WebSocket upgrade and connection, an echo in place of
/// the chat.
private struct EchoServer {
    let port: Int
    let task: Task<Void, any Error>

    static func start() async throws -> EchoServer {
        let (ready, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: Router(),
            server: HTTPServerBuilder { responder -> any ServerChildChannel in
                WebSocketUpgradeChannel(responder: responder, http1: .init(), door: EchoDoor(), maxFrameSize: ChatWebSocket.maxFrameSize)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: quietLogger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for await port in ready {
            return EchoServer(port: port, task: task)
        }
        task.cancel()
        throw TestFailure("the echo server stopped before it listened")
    }
}

/// Upgrades `/ws` to an echo.
private struct EchoDoor: WebSocketDoor {
    func accepts(_ target: String) -> Bool {
        ChatWebSocket.split(target).path == "/ws"
    }

    func decide(_ head: HTTPRequestHead) async {}

    func connection(for verdict: Void, channel: any Channel, logger: Logger) -> any ChannelHandler {
        WebSocketConnection(endpoint: Echo(), eventLoop: channel.eventLoop, maxMessageBytes: ChatWebSocket.maxFrameSize, pings: nil,
                            closeTimeout: ChatWebSocket.closeTimeout, logger: logger)
    }
}

/// Sends every message back as it came, text or binary.
private final class Echo: WebSocketEndpoint {
    func start(on connection: WebSocketConnection) {
        connection.ready()
    }

    func received(_ message: ByteBuffer, binary: Bool, on connection: WebSocketConnection) {
        connection.write(CollectionOfOne(Self.frame(message, binary: binary)), promise: nil)
    }

    func ended() {}

    /// An unmasked, final data frame.
    static func frame(_ payload: ByteBuffer, binary: Bool) -> ByteBuffer {
        WireFrame(opcode: binary ? 0x2 : 0x1, payload: payload).bytes
    }
}

/// The fuzzing client's spec: every case against one server, less the excluded groups.
private struct AutobahnSpec: Encodable {
    struct Exclusion {
        let cases: [String]
        let reason: String
    }

    /// Only what cannot apply to chatd: Autobahn would report these UNIMPLEMENTED, which checks
    /// nothing.
    static let excluded = [
        Exclusion(cases: ["12.*", "13.*"],
                  reason: "permessage-deflate; chatd's configuration has no `extensions:`, so the upgrade offers no compression"),
    ]

    let outdir: String
    let servers: [[String: String]]
    let cases = ["*"]
    let excludeCases = excluded.flatMap(\.cases)
    let excludeAgentCases: [String: [String]] = [:]

    init(url: String, outdir: String) {
        self.outdir = outdir
        servers = [["agent": AutobahnResults.agent, "url": url]]
    }

    enum CodingKeys: String, CodingKey {
        case outdir, servers, cases
        case excludeCases = "exclude-cases"
        case excludeAgentCases = "exclude-agent-cases"
    }

    func write(to url: URL) throws {
        try JSONEncoder().encode(self).write(to: url)
    }
}

/// The report the fuzzing client leaves in its `outdir`: `index.json`, and one JSON file per
/// case with its description and the details of its close.
private struct AutobahnResults {
    static let agent = "chatd-echo"
    static let behaviours = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
    /// The columns of the cases whose message is over chatd's limit; see ``verdict(of:)``.
    static let refusedWith1009 = "OVER-LIMIT:1009"
    static let refusedWithReset = "OVER-LIMIT:RESET"

    struct Case: Decodable {
        var id = ""
        let behavior: String
        let behaviorClose: String
        let remoteCloseCode: Int?
        let reportfile: String

        enum CodingKeys: String, CodingKey {
            case behavior, behaviorClose, remoteCloseCode, reportfile
        }
    }

    struct Report: Decodable {
        let description: String
        let expectation: String
        let result: String
        let droppedByMe: Bool
        let wasNotCleanReason: String?
    }

    struct Verdict {
        let column: String
        let problem: String?
    }

    let outdir: URL
    let cases: [Case]
    let maxFrameSize: Int

    init(outdir: URL, maxFrameSize: Int) throws {
        self.outdir = outdir
        self.maxFrameSize = maxFrameSize
        let index = try JSONDecoder().decode([String: [String: Case]].self,
                                             from: Data(contentsOf: outdir.appendingPathComponent("index.json")))
        cases = (index[Self.agent] ?? [:]).map { id, result in
            var result = result
            result.id = id
            return result
        }.sorted { Self.numbers($0.id).lexicographicallyPrecedes(Self.numbers($1.id)) }
    }

    /// The sizes of the message and of its largest frame in the performance cases 9.1 to 9.6
    /// (`DATALEN` and `FRAGSIZE` in Autobahn's `case9_*.py`; 9.5 and 9.6 send one frame in small
    /// TCP writes).
    static func performanceSizes(_ id: String) -> (message: Int, frame: Int)? {
        let parts = numbers(id)
        guard parts.count == 3, parts[0] == 9, parts[2] >= 1 else { return nil }
        let index = parts[2] - 1
        switch parts[1] {
        case 1, 2:
            let sizes = [64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20]
            return index < sizes.count ? (sizes[index], sizes[index]) : nil
        case 3, 4:
            let fragments = [64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20]
            return index < fragments.count ? (4 << 20, fragments[index]) : nil
        case 5, 6: return (1 << 20, 1 << 20)
        default: return nil
        }
    }

    /// Autobahn's behaviour, except for the performance cases whose message is over
    /// `ProtocolLimits.maxInboundMessageBytes`.
    ///
    /// Those expect their message echoed and Autobahn reports chatd's refusal as FAILED, but
    /// PROTOCOL.md wants exactly that refusal: a frame or message over 64 KiB closes the
    /// connection with 1009. So the test asks for the 1009 close instead. One exception is
    /// tolerated and counted apart: a single frame over `maxFrameSize` is refused by swift-nio's
    /// `WebSocketProtocolErrorHandler`, which writes the 1009 close and closes the socket at
    /// once, with the client's frame still unread; the kernel then answers with a TCP reset, and
    /// a client still writing (Autobahn's Twisted drops the connection on the failed write) may
    /// never read the 1009. The connection is still refused at once, which is what matters to chatd.
    func verdict(of result: Case) -> Verdict {
        guard let sizes = Self.performanceSizes(result.id), sizes.message > ProtocolLimits.maxInboundMessageBytes else {
            return Verdict(column: result.behavior, problem: result.behavior == "FAILED" ? describe(result) : nil)
        }
        if result.remoteCloseCode == 1009 { return Verdict(column: Self.refusedWith1009, problem: nil) }
        if sizes.frame > maxFrameSize, result.remoteCloseCode == nil, let report = report(of: result), !report.droppedByMe,
           report.wasNotCleanReason?.contains("peer dropped the TCP connection") == true {
            return Verdict(column: Self.refusedWithReset, problem: nil)
        }
        return Verdict(column: result.behavior, problem: "a \(sizes.message)-byte message, over the \(ProtocolLimits.maxInboundMessageBytes)-byte limit, "
            + "was not refused with 1009: \(describe(result))")
    }

    /// One line per section (the case id's first number) with its count in each column.
    var table: String {
        let columns = Self.behaviours + [Self.refusedWith1009, Self.refusedWithReset]
        let verdicts = Dictionary(uniqueKeysWithValues: cases.map { ($0.id, verdict(of: $0).column) })
        func row(_ title: String, _ cases: [Case]) -> String {
            title.padding(toLength: 9, withPad: " ", startingAt: 0) + columns.map { column in
                String(cases.count { verdicts[$0.id] == column }).padding(toLength: max(column.count, 3) + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
        let sections = Dictionary(grouping: cases) { Self.numbers($0.id)[0] }
        return (["section  " + columns.map { $0.padding(toLength: max($0.count, 3) + 2, withPad: " ", startingAt: 0) }.joined()]
            + sections.keys.sorted().map { row(String($0), sections[$0]!) }
            + [row("total", cases)]).joined(separator: "\n")
    }

    func report(of result: Case) -> Report? {
        guard let data = try? Data(contentsOf: outdir.appendingPathComponent(result.reportfile)) else { return nil }
        return try? JSONDecoder().decode(Report.self, from: data)
    }

    /// The case's id, close, description, expectation and outcome.
    func describe(_ result: Case) -> String {
        let close = "\(result.id) [\(result.behavior), close \(result.behaviorClose), code \(result.remoteCloseCode.map(String.init) ?? "none")]"
        guard let report = report(of: result) else { return "\(close) (no report file \(result.reportfile))" }
        return "\(close) \(report.description) Expected: \(report.expectation) Got: \(report.result)"
            + (report.wasNotCleanReason.map { " Not clean: \($0)." } ?? "")
    }

    private static func numbers(_ id: String) -> [Int] {
        id.split(separator: ".").map { Int($0) ?? 0 }
    }
}

/// The Autobahn|Testsuite command line tool (Python 2, in its own virtualenv).
private struct Wstest {
    let path: String

    /// `CHATD_WSTEST`, else the virtualenv `make test-deps` creates under `.build`. Missing, it
    /// fails the test: a conformance check that quietly does not run checks nothing.
    static func locate() throws -> Wstest {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = ProcessInfo.processInfo.environment["CHATD_WSTEST"]
            ?? packageRoot.appendingPathComponent(".build/autobahn-venv/bin/wstest").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("""
                wstest (Autobahn|Testsuite) not found at \(path). Install it with `make test-deps` \
                (a Python 2.7 virtualenv in .build/autobahn-venv from pyenv's 2.7.18), or point CHATD_WSTEST at a wstest.
                """)
        }
        return Wstest(path: path)
    }

    struct Run {
        let status: Int32
        let timedOut: Bool
        let outputTail: String
    }

    /// Runs wstest with its output in a file (a pipe nobody drains would stall it), killing it
    /// past the deadline so that a hung case fails the test instead of hanging it.
    func run(_ arguments: [String], in directory: URL, deadline: Duration) async throws -> Run {
        let log = directory.appendingPathComponent("wstest.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = output
        process.standardError = output
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONWARNINGS"] = "ignore"
        process.environment = environment
        let watched = UncheckedProcess(process)
        let watchdog = Task {
            try await Task.sleep(for: deadline)
            if watched.process.isRunning { watched.process.terminate() }
        }
        defer { watchdog.cancel() }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return Run(status: status, timedOut: process.terminationReason == .uncaughtSignal,
                   outputTail: text.split(separator: "\n").suffix(30).joined(separator: "\n"))
    }
}

/// `Process` is not `Sendable`; the watchdog only asks whether it runs and terminates it, which
/// Foundation allows from any thread.
private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}

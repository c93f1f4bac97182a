import Foundation

/// The chatd under test: started on a fresh data directory with `--rate 0`, optionally pinned to
/// one CPU with `taskset`, and watched through `/proc` (RSS and CPU time are read from outside, so
/// the numbers are the kernel's, not the server's own idea of itself).
final class ChatdProcess: @unchecked Sendable {
    struct Ports: Sendable {
        var http: Int
        var ftp: Int
    }

    let process: Process
    let ports: Ports
    let dataDirectory: URL
    private let logFile: URL

    var pid: Int32 { process.processIdentifier }

    /// Starts chatd and waits for its start-up line (`chatd listening ... ftp=HOST:PORT http=HOST:PORT`).
    init(binary: String, dataDirectory: URL, cpu: Int?, extraArguments: [String] = []) throws {
        self.dataDirectory = dataDirectory
        logFile = dataDirectory.deletingLastPathComponent().appendingPathComponent("chatd-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        var arguments = ["--data-dir", dataDirectory.path, "--http", "127.0.0.1:0", "--ftp", "127.0.0.1:0",
                         "--rate", "0", "--log-level", "info", "--max-file-size", "64G"] + extraArguments
        let process = Process()
        if let cpu {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            arguments = ["-c", "\(cpu)", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
        }
        process.arguments = arguments
        let log = try FileHandle(forWritingTo: logFile)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        RunningServers.shared.add(process)

        let deadline = Date().addingTimeInterval(30)
        var found: Ports?
        while found == nil {
            guard process.isRunning else {
                throw BenchError("chatd exited at start: \(Self.tail(of: logFile))")
            }
            guard Date() < deadline else {
                process.terminate()
                throw BenchError("chatd did not say it was listening within 30 s: \(Self.tail(of: logFile))")
            }
            if let text = try? String(contentsOf: logFile, encoding: .utf8), let line = text.split(separator: "\n").first(where: { $0.contains("chatd listening") }) {
                found = Ports(http: Self.port(after: "http=", in: line), ftp: Self.port(after: "ftp=", in: line))
            } else {
                usleep(20_000)
            }
        }
        ports = found!
    }

    /// Resident set size now, and its peak so far (`VmRSS`, `VmHWM`), in KiB.
    func memory() -> (rssKiB: Int, peakKiB: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// User plus system CPU seconds chatd has used so far.
    func cpuSeconds() -> Double {
        guard let stat = ProcStat(pid: pid) else { return 0 }
        return (stat.user + stat.system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The lines chatd logged at `warning` or above so far (its log's second word is the level):
    /// a benchmark run should have none, so the scenario reports them.
    func logProblems() -> [String] {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { line in
            let words = line.split(separator: " ", maxSplits: 2)
            return words.count > 1 && ["warning", "error", "critical"].contains(words[1])
        }.map(String.init)
    }

    func stop() {
        guard process.isRunning else { return }
        process.interrupt()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        RunningServers.shared.remove(process)
        try? FileManager.default.removeItem(at: logFile)
    }

    private static func port<S: StringProtocol>(after key: String, in line: S) -> Int {
        guard let range = line.range(of: key) else { return 0 }
        let value = line[range.upperBound...].prefix { $0 != " " && $0 != "\"" }
        return Int(value.split(separator: ":").last ?? "") ?? 0
    }

    private static func tail(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: " | ")
    }
}

/// A benchmark that could not run, with what the user needs to know.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The chatd processes this run started, so that an interrupted benchmark (Ctrl-C, `timeout`)
/// does not leave servers behind.
final class RunningServers: @unchecked Sendable {
    static let shared = RunningServers()
    private let lock = NSLock()
    private var processes: [Process] = []
    /// Work that is not a child process of ours (a PostgreSQL server, which daemonizes; files to
    /// remove), run in reverse order after the processes are killed.
    private var cleanups: [(id: Cleanup, run: @Sendable () -> Void)] = []
    private var nextCleanup = 0
    private var sources: [any DispatchSourceSignal] = []

    struct Cleanup: Hashable, Sendable {
        fileprivate let id: Int
    }

    func add(_ process: Process) {
        lock.withLock {
            processes.append(process)
            installHandlers()
        }
    }

    func remove(_ process: Process) {
        lock.withLock { processes.removeAll { $0 === process } }
    }

    /// Registers `body` to run if the benchmark is interrupted; ``removeCleanup(_:)`` once the
    /// normal teardown has done the same.
    func addCleanup(_ body: @escaping @Sendable () -> Void) -> Cleanup {
        lock.withLock {
            nextCleanup += 1
            let id = Cleanup(id: nextCleanup)
            cleanups.append((id, body))
            installHandlers()
            return id
        }
    }

    func removeCleanup(_ id: Cleanup) {
        lock.withLock { cleanups.removeAll { $0.id == id } }
    }

    /// Called with the lock held.
    private func installHandlers() {
        guard sources.isEmpty else { return }
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let (running, pending) = lock.withLock { (processes, cleanups) }
                for process in running where process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                }
                for cleanup in pending.reversed() {
                    cleanup.run()
                }
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}

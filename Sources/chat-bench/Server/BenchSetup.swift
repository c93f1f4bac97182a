import Foundation

/// One scenario's world: a work directory, seeded accounts, a running chatd and the generator,
/// pinned to their CPUs. ``tearDown()`` stops chatd and removes every file the run made.
///
/// With `--nodes N` chatd is N `chatd serve` processes on one PostgreSQL database and one data
/// directory (a cluster), all pinned to chatd's CPU together with PostgreSQL, so that a cluster
/// is compared with one SQLite node on the same single core: what the cluster costs, not what
/// more cores buy. Server CPU and RSS are summed over the nodes.
struct BenchSetup: Sendable {
    let workDirectory: URL
    let accounts: BenchAccounts
    /// chatd's nodes: one, unless a cluster run.
    let nodes: [ChatdProcess]
    /// The cluster's database; nil for the single SQLite node.
    let postgres: BenchPostgres?
    let client: BenchClient
    private let workCleanup: RunningServers.Cleanup

    /// The first (on SQLite the only) node: the one single-connection scenarios (files) talk to.
    var chatd: ChatdProcess { nodes[0] }

    /// How long a step waits after its window for deliveries still on their way before counting
    /// them missing. A cluster node also picks messages up on its heartbeat (every third of
    /// `--node-timeout`, 5 s) should a notification be late, so it gets longer.
    var drainSeconds: Double { postgres == nil ? 5 : 15 }

    static func start(_ options: CommonOptions, accounts count: Int, extraArguments: [String] = []) async throws -> BenchSetup {
        guard FileManager.default.isExecutableFile(atPath: options.chatdBinary) else {
            throw BenchError("no chatd at \(options.chatdBinary): build it (swift build -c release) or pass --chatd PATH")
        }
        FileDescriptors.raiseLimit()
        let work = try options.makeWorkDirectory()
        // an interrupted run (Ctrl-C) leaves no files either; runs after the servers are stopped
        let workCleanup = RunningServers.shared.addCleanup { try? FileManager.default.removeItem(at: work) }
        let data = work.appendingPathComponent("data")
        let cpus = options.cpus
        var postgres: BenchPostgres?
        var nodes: [ChatdProcess] = []
        do {
            let accounts: BenchAccounts
            if let nodeCount = options.nodes {
                let database: BenchPostgres
                if let url = options.database {
                    database = try BenchPostgres.external(url: url)
                } else {
                    // each node's pool has up to 20 connections, plus its LISTEN connection
                    database = try BenchPostgres.start(workDirectory: work, cpu: cpus.server, maxConnections: max(100, 25 * nodeCount + 10))
                }
                postgres = database
                FileHandle.standardError.write(Data("  \(nodeCount) chatd node\(nodeCount == 1 ? "" : "s") on \(database.settings)\n".utf8))
                accounts = try await BenchAccounts.seed(count: count, postgres: database, dataDirectory: data)
                for _ in 0..<nodeCount {
                    nodes.append(try ChatdProcess(binary: options.chatdBinary, dataDirectory: data, cpu: cpus.server,
                                                  extraArguments: ["--database", database.url] + extraArguments))
                }
            } else {
                accounts = try await BenchAccounts.seed(count: count, dataDirectory: data)
                nodes = [try ChatdProcess(binary: options.chatdBinary, dataDirectory: data, cpu: cpus.server, extraArguments: extraArguments)]
            }
            let client = BenchClient(ports: nodes.map(\.ports.http))
            if let cpu = cpus.client {
                // after the generator's thread exists, so that it is pinned too; later threads inherit
                try CPUPinning.pinThisProcess(to: cpu)
            }
            return BenchSetup(workDirectory: work, accounts: accounts, nodes: nodes, postgres: postgres, client: client, workCleanup: workCleanup)
        } catch {
            for node in nodes { node.stop() }
            postgres?.stop()
            try? FileManager.default.removeItem(at: work)
            RunningServers.shared.removeCleanup(workCleanup)
            throw error
        }
    }

    /// Starts a world, runs `body` in it and tears it down, whether `body` succeeds or throws.
    static func run<T: Sendable>(_ options: CommonOptions, accounts: Int, extraArguments: [String] = [],
                                 _ body: (BenchSetup) async throws -> T) async throws -> T {
        let setup = try await start(options, accounts: accounts, extraArguments: extraArguments)
        do {
            let result = try await body(setup)
            await setup.tearDown()
            return result
        } catch {
            await setup.tearDown()
            throw error
        }
    }

    /// User plus system CPU seconds of every chatd node so far.
    func serverCPUSeconds() -> Double {
        nodes.reduce(0) { $0 + $1.cpuSeconds() }
    }

    /// PostgreSQL's CPU seconds so far, when chat-bench started it (nil otherwise).
    func databaseCPUSeconds() -> Double? {
        postgres?.cpuSeconds()
    }

    /// RSS and peak RSS summed over the nodes, in KiB.
    func serverMemory() -> (rssKiB: Int, peakKiB: Int) {
        nodes.map { $0.memory() }.reduce((0, 0)) { ($0.0 + $1.rssKiB, $0.1 + $1.peakKiB) }
    }

    /// Adds what ran to a scenario's result: `nodes` and `database` in the JSON line, a line in the
    /// summary and the node count in the table rows for a cluster, and any warnings or errors
    /// chatd (or the throwaway PostgreSQL) logged, which a clean run has none of.
    func describe(_ result: ScenarioResult) -> ScenarioResult {
        var result = result
        let problems = nodes.enumerated().flatMap { node, process in process.logProblems().map { "node \(node + 1): \($0)" } }
        let databaseProblems = postgres?.logProblems() ?? []
        var fields: [(String, JSONLine)] = [("nodes", .int(nodes.count)), ("database", .string(postgres == nil ? "sqlite" : "postgres"))]
        if let postgres {
            fields.append(("postgres_settings", .string(postgres.settings)))
            let label = "\(nodes.count) node\(nodes.count == 1 ? "" : "s")"
            result.summary.insert("nodes: \(nodes.count), database: postgres", at: 0)
            result.rows = result.rows.map { row in
                var row = row
                row.scenario += ", \(label)"
                return row
            }
        }
        result.fields = fields + result.fields + [("chatd_log_problems", .int(problems.count))]
            + (postgres == nil ? [] : [("postgres_log_problems", .int(databaseProblems.count))])
        if !problems.isEmpty {
            result.summary.append("chatd logged \(problems.count) warnings or errors, first: " + problems.prefix(3).joined(separator: " | "))
        }
        if !databaseProblems.isEmpty {
            result.summary.append("PostgreSQL logged \(databaseProblems.count) errors, first: " + databaseProblems.prefix(3).joined(separator: " | "))
        }
        return result
    }

    func tearDown() async {
        await client.shutdown()
        for node in nodes { node.stop() }
        postgres?.stop()
        try? FileManager.default.removeItem(at: workDirectory)
        RunningServers.shared.removeCleanup(workCleanup)
    }
}

/// Pins every thread of this process to one CPU with `taskset -a -p`.
enum CPUPinning {
    static func pinThisProcess(to cpu: Int) throws {
        let taskset = Process()
        taskset.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        taskset.arguments = ["-a", "-p", "-c", "\(cpu)", "\(getpid())"]
        taskset.standardOutput = FileHandle.nullDevice
        try taskset.run()
        taskset.waitUntilExit()
        guard taskset.terminationStatus == 0 else { throw BenchError("taskset could not pin the generator to CPU \(cpu)") }
    }
}

/// The generator holds as many sockets as the sessions it opens.
enum FileDescriptors {
    static func raiseLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

import Foundation

/// One scenario's world: a work directory, seeded accounts, a running chatd and the generator,
/// pinned to their CPUs. ``tearDown()`` stops chatd and removes every file the run made.
struct BenchSetup: Sendable {
    let workDirectory: URL
    let accounts: BenchAccounts
    let chatd: ChatdProcess
    let client: BenchClient

    static func start(_ options: CommonOptions, accounts count: Int, extraArguments: [String] = []) async throws -> BenchSetup {
        guard FileManager.default.isExecutableFile(atPath: options.chatdBinary) else {
            throw BenchError("no chatd at \(options.chatdBinary): build it (swift build -c release) or pass --chatd PATH")
        }
        FileDescriptors.raiseLimit()
        let work = try options.makeWorkDirectory()
        let data = work.appendingPathComponent("data")
        let accounts = try BenchAccounts.seed(count: count, dataDirectory: data, chatdBinary: options.chatdBinary)
        let cpus = options.cpus
        let chatd = try ChatdProcess(binary: options.chatdBinary, dataDirectory: data, cpu: cpus.server, extraArguments: extraArguments)
        let client = BenchClient(port: chatd.ports.http)
        if let cpu = cpus.client {
            // after the generator's thread exists, so that it is pinned too; later threads inherit
            try CPUPinning.pinThisProcess(to: cpu)
        }
        return BenchSetup(workDirectory: work, accounts: accounts, chatd: chatd, client: client)
    }

    /// Starts a world, runs `body` in it and tears it down, whether `body` succeeds or throws.
    static func run<T: Sendable>(_ options: CommonOptions, accounts: Int, _ body: (BenchSetup) async throws -> T) async throws -> T {
        let setup = try await start(options, accounts: accounts)
        do {
            let result = try await body(setup)
            await setup.tearDown()
            return result
        } catch {
            await setup.tearDown()
            throw error
        }
    }

    func tearDown() async {
        await client.shutdown()
        chatd.stop()
        try? FileManager.default.removeItem(at: workDirectory)
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

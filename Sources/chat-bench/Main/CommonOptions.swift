import ArgumentParser
import ChatCore
import Foundation

/// Options every scenario shares: which chatd, where its data goes, the CPU split, and whether
/// chatd runs as one node on SQLite (the default) or as a cluster on PostgreSQL.
struct CommonOptions: ParsableArguments {
    @Option(help: "The chatd binary. Default: the chatd next to chat-bench (build both with -c release).")
    var chatd: String?

    @Option(help: "CPU chatd is pinned to (taskset). Default: 0 on a machine with two or more CPUs.")
    var serverCPU: Int?

    @Option(help: "CPU the generator is pinned to. Default: 1 on a machine with two or more CPUs.")
    var clientCPU: Int?

    @Flag(help: "Do not pin chatd or the generator to CPUs.")
    var noPin = false

    @Option(help: "Directory for chatd's data and payload files (a fresh subdirectory is made and removed). Default: the system temporary directory.")
    var workDir: String?

    @Option(help: "Run chatd as a cluster of N nodes on PostgreSQL (all on chatd's CPU) instead of one node on SQLite; sessions and senders are spread over the nodes round-robin.")
    var nodes: Int?

    @Option(help: "With --nodes: the cluster's postgres://USER@HOST:PORT/DB?sslmode=disable, an empty database that chat-bench empties before and after the run. Default: a throwaway PostgreSQL started in the work directory (initdb, pg_ctl).")
    var database: String?

    mutating func validate() throws {
        if let nodes, nodes < 1 { throw ValidationError("--nodes must be 1 or more") }
        if database != nil && nodes == nil { throw ValidationError("--database is for a cluster run: give --nodes N too") }
        if let database {
            // chatd's own parser, so that chat-bench takes what `chatd --database` takes
            let location: DatabaseLocation
            do { location = try DatabaseLocation(parsing: database, option: "--database") } catch { throw ValidationError(error.description) }
            guard case .postgres = location else { throw ValidationError("--database must be a postgres:// URL") }
        }
    }

    var chatdBinary: String {
        if let chatd { return chatd }
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return own.deletingLastPathComponent().appendingPathComponent("chatd").path
    }

    /// The CPUs for (server, generator), or nil each when not pinning.
    var cpus: (server: Int?, client: Int?) {
        let count = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        guard !noPin, count >= 2 else { return (nil, nil) }
        return (serverCPU ?? 0, clientCPU ?? 1)
    }

    func makeWorkDirectory() throws -> URL {
        let base = URL(fileURLWithPath: workDir ?? NSTemporaryDirectory())
        let directory = base.appendingPathComponent("chat-bench-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

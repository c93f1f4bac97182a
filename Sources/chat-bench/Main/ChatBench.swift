import ArgumentParser
import Foundation

/// `chat-bench`: starts a chatd of its own on a fresh data directory and measures it. Each
/// scenario prints one JSON line on stdout and a short summary on stderr; `all` runs every
/// scenario with the published sizes and writes the results table.
@main
struct ChatBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-bench",
        abstract: "Load generator and benchmark for chatd.",
        discussion: "chatd is pinned to one CPU and the generator to another (taskset) unless --no-pin; chatd runs with --rate 0.",
        subcommands: [Idle.self, Join.self, Fanout.self, Direct.self, Files.self, All.self, Cluster.self])

    struct Idle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hold N authenticated sessions; chatd's RSS per session.")
        @Argument(help: "Sessions to hold.") var sessions = 15_000
        @Option(help: "Accounts the sessions are spread over.") var accounts = 1000
        @Option(help: "Then hold them this many seconds and report chatd's CPU meanwhile (its pings; 60 spans two rounds).")
        var hold: Double = 0
        @Option(help: "chatd's --ping-interval while holding.") var pingInterval = 30
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await IdleScenario(sessions: sessions, accounts: accounts, holdSeconds: hold, pingInterval: pingInterval).run(common).print()
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time for N sessions of N accounts to connect and be welcomed.")
        @Argument(help: "Sessions (and accounts).") var sessions = 5000
        @Option(help: "Sessions opening at once.") var inFlight = 256
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await JoinScenario(sessions: sessions, inFlight: inFlight).run(common).print()
        }
    }

    struct Fanout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Broadcast at rising rates: deliveries/s, latency, chatd CPU.")
        @Option(help: "Sessions in the broadcast channel.") var sessions = 1000
        @Option(help: "Sessions that send.") var senders = 10
        @Option(help: "Target deliveries per second, comma-separated, one step each.") var steps = "25000,50000,100000,200000,250000,400000"
        @Option(help: "Seconds per step.") var stepSeconds = 5.0
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await FanoutScenario(sessions: sessions, senders: senders, steps: try parseSteps(steps), stepSeconds: stepSeconds).run(common).print()
        }
    }

    struct Direct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Direct messages between pairs at rising rates.")
        @Option(help: "Sessions (two per pair).") var sessions = 1000
        @Option(help: "Target messages per second, comma-separated, one step each.") var steps = "2500,5000,10000,25000,50000,100000"
        @Option(help: "Seconds per step.") var stepSeconds = 5.0
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await DirectScenario(sessions: sessions, steps: try parseSteps(steps), stepSeconds: stepSeconds).run(common).print()
        }
    }

    struct Files: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload and download one file over HTTP and FTP: MB/s and peak RSS.")
        @Option(help: "File size in MiB.") var mib = 1024
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await FilesScenario(bytes: mib << 20).run(common).print()
        }
    }

    struct Cluster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "fanout on one SQLite node, then on PostgreSQL clusters of each size; one table to compare them.",
            discussion: "Every node and PostgreSQL share chatd's CPU, so the table shows what a cluster costs on one core. `make bench-cluster` runs it.")
        @Option(help: "Cluster sizes to run, comma-separated.") var nodeCounts = "1,2,3"
        @Flag(help: "Leave out the single SQLite node.") var noSqlite = false
        @Option(help: "Sessions in the broadcast channel.") var sessions = 500
        @Option(help: "Sessions that send.") var senders = 10
        @Option(help: "Target deliveries per second, comma-separated, one step each.") var steps = "25000,50000,100000,200000,300000"
        @Option(help: "Seconds per step.") var stepSeconds = 5.0
        @Option(help: "Also write the table (Markdown) to this file.") var table: String?
        @OptionGroup var common: CommonOptions

        func validate() throws {
            if common.nodes != nil { throw ValidationError("give the cluster sizes with --node-counts, not --nodes") }
            _ = try clusterSizes()
        }

        func clusterSizes() throws -> [Int] {
            let sizes = nodeCounts.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw ValidationError("--node-counts must be positive numbers separated by commas, e.g. 1,2,3")
            }
            return sizes.compactMap { $0 }
        }

        func run() async throws {
            let started = Date()
            let loadBefore = Self.loadAverage()
            let scenario = FanoutScenario(sessions: sessions, senders: senders, steps: try parseSteps(steps), stepSeconds: stepSeconds)
            var runs: [ClusterTable.Run] = []
            let deployments: [Int?] = (noSqlite ? [] : [nil]) + (try clusterSizes()).map { Optional($0) }
            for nodes in deployments {
                var options = common
                options.nodes = nodes
                let label = nodes.map { "\($0) node\($0 == 1 ? "" : "s"), PostgreSQL" } ?? "1 node, SQLite"
                FileHandle.standardError.write(Data("fanout, \(label):\n".utf8))
                do {
                    let (result, steps) = try await scenario.runSteps(options)
                    result.print()
                    runs.append(ClusterTable.Run(label: label, result: result, steps: steps, deliveriesPerMessage: sessions))
                } catch {
                    FileHandle.standardError.write(Data("  failed: \(error)\n".utf8))
                    runs.append(ClusterTable.Run(label: label, failure: "\(error)"))
                }
            }
            let header = "chat-bench cluster, \(ISO8601DateFormatter().string(from: Date())), \(Int(Date().timeIntervalSince(started))) s, "
                + "\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs, fanout with \(sessions) sessions and \(senders) senders, \(Format.decimal(stepSeconds, 0)) s steps"
                + (common.cpus.server.map { ", chatd (every node) and PostgreSQL on CPU \($0), generator on CPU \(common.cpus.client ?? 0)" } ?? ", unpinned")
                + "; load average \(loadBefore) before, \(Self.loadAverage()) after (anything else running shares the cores)"
            let markdown = ClusterTable.markdown(runs, header: header)
            FileHandle.standardError.write(Data(("\n" + markdown).utf8))
            if let path = table {
                try markdown.write(toFile: path, atomically: true, encoding: .utf8)
            }
        }

        /// The 1-minute load average, so that a table says whether the machine was quiet.
        static func loadAverage() -> String {
            let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
            return text.split(separator: " ").first.map(String.init) ?? "?"
        }
    }

    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every scenario at its published size; prints the results table.")
        @Option(help: "Also write the results table (Markdown) to this file.") var table: String?
        @Flag(help: "Tiny sizes (a few sessions, one short step): checks that every scenario still runs.") var smoke = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let started = Date()
            var results: [ScenarioResult] = []
            func record(_ result: ScenarioResult) {
                result.print()
                results.append(result)
            }
            if smoke {
                record(try await IdleScenario(sessions: 10, accounts: 5, settleSeconds: 0.2, holdSeconds: 0.5).run(common))
                record(try await JoinScenario(sessions: 10).run(common))
                record(try await FanoutScenario(sessions: 10, senders: 2, steps: [200], stepSeconds: 1).run(common))
                record(try await DirectScenario(sessions: 10, steps: [100], stepSeconds: 1).run(common))
                record(try await FilesScenario(bytes: 1 << 20).run(common))
            } else {
                record(try await IdleScenario(sessions: 15_000, accounts: 1000, holdSeconds: 60).run(common))
                record(try await JoinScenario(sessions: 5000).run(common))
                record(try await FanoutScenario(sessions: 1000, senders: 10, steps: [25_000, 50_000, 100_000, 200_000, 250_000, 400_000], stepSeconds: 5).run(common))
                record(try await DirectScenario(sessions: 1000, steps: [2500, 5000, 10_000, 25_000, 50_000, 100_000], stepSeconds: 5).run(common))
                record(try await FilesScenario(bytes: 1 << 30).run(common))
            }
            let header = "chat-bench \(smoke ? "smoke run" : "results"), \(ISO8601DateFormatter().string(from: Date())), "
                + "\(Int(Date().timeIntervalSince(started))) s, \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs"
                + (common.nodes.map { ", \($0) chatd node\($0 == 1 ? "" : "s") on PostgreSQL" } ?? "")
                + (common.cpus.server.map { ", chatd on CPU \($0), generator on CPU \(common.cpus.client ?? 0)" } ?? ", unpinned")
            let markdown = ResultsTable.markdown(results.flatMap(\.rows), header: header)
            FileHandle.standardError.write(Data(("\n" + markdown).utf8))
            if let path = table {
                try markdown.write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
    }
}

private func parseSteps(_ text: String) throws -> [Double] {
    let values = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.count == text.split(separator: ",").count, values.allSatisfy({ $0 > 0 }) else {
        throw ValidationError("steps must be positive numbers separated by commas, e.g. 25000,50000")
    }
    return values
}

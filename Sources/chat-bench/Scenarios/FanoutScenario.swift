import Foundation

/// `fanout`: `sessions` sessions (one account each) in the broadcast channel, `senders` of them
/// sending at rising rates. Each message is stored, then delivered to every session, sender
/// included, so deliveries/s = messages/s × sessions. On a cluster the sessions are spread over
/// the nodes round-robin and so are the senders: every message is delivered on every node.
struct FanoutScenario {
    var sessions: Int
    var senders: Int
    /// Target deliveries per second, one step each.
    var steps: [Double]
    var stepSeconds: Double

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        try await runSteps(options).result
    }

    /// The result and its steps, for tables that compare runs (`chat-bench cluster`).
    func runSteps(_ options: CommonOptions) async throws -> (result: ScenarioResult, steps: [RateSteps.Step]) {
        try await BenchSetup.run(options, accounts: sessions) { setup in try await measure(setup) }
    }

    private func measure(_ setup: BenchSetup) async throws -> (result: ScenarioResult, steps: [RateSteps.Step]) {
        try await setup.client.connect(tokens: setup.accounts.logins.map(\.token), inFlight: 256, timeout: 120)
        let failures = try await setup.client.onLoop { setup.client.stats.failureCount }
        guard failures == 0 else { throw BenchError("\(failures) sessions could not open") }
        try await setup.client.settleJoinNotices(expected: sessions * (sessions - 1) / 2, timeout: 60)
        let sending = senderSessions(nodes: setup.nodes.count)
        let runner = RateSteps(
            setup: setup, senders: sending.map { RateSteps.Sender(session: $0) },
            deliveriesPerMessage: sessions, echoesPerMessage: 0, seconds: stepSeconds)
        let results = try await runner.run(messagesPerSecond: steps.map { $0 / Double(sessions) })
        let memory = setup.serverMemory()
        var perNode = [Int](repeating: 0, count: setup.nodes.count)
        for session in sending { perNode[setup.client.node(ofSession: session)] += 1 }
        return (setup.describe(report(results, memory: memory, sendersPerNode: perNode)), results)
    }

    /// Sessions spread evenly over the list, sender `k` on node `k % nodes` (session `i` is on
    /// node `i % nodes`), so that every node takes its share of the sending.
    func senderSessions(nodes: Int) -> [Int] {
        let count = min(senders, sessions)
        let stride = max(1, sessions / max(count, 1))
        guard stride >= nodes else { return Array(0..<count) }
        return (0..<count).map { k in
            let base = k * stride
            return base + ((k % nodes - base % nodes) + nodes) % nodes
        }
    }

    private func report(_ results: [RateSteps.Step], memory: (rssKiB: Int, peakKiB: Int), sendersPerNode: [Int]) -> ScenarioResult {
        let best = results.filter { $0.met(target: $0.targetMessagesPerSecond * Double(sessions)) }.map(\.deliveriesPerSecond).max() ?? 0
        let near50k = results.min { abs($0.deliveriesPerSecond - 50_000) < abs($1.deliveriesPerSecond - 50_000) }
        var summary = ["\(sessions) sessions, \(senders) senders" + (sendersPerNode.count > 1 ? " (per node: \(sendersPerNode.map(String.init).joined(separator: "/")))" : "")
            + ", \(Format.decimal(stepSeconds, 0)) s steps; chatd RSS \(memory.rssKiB / 1024) MiB at the end, peak \(memory.peakKiB / 1024) MiB"
            + (sendersPerNode.count > 1 ? " (summed over the nodes)" : "")]
        summary += results.map { $0.summary(target: $0.targetMessagesPerSecond * Double(sessions), unit: "deliveries") }
        var rows = [
            TableRow(scenario: "fanout", metric: "deliveries/s with p99 ≤ 50 ms, none lost", measured: Format.thousands(best),
                     target: "≥ 300,000", met: best >= 300_000),
        ]
        if let near50k, sessions >= 1000 {
            rows.append(TableRow(scenario: "fanout", metric: "chatd CPU at \(Format.thousands(near50k.deliveriesPerSecond)) deliveries/s",
                                 measured: "\(Format.decimal(near50k.serverCPUPercent, 0)) % of a core, p99 \(Format.decimal(near50k.latency.p99, 1)) ms",
                                 target: "≤ 45 %, p99 ≤ 25 ms at 50,000/s",
                                 met: near50k.serverCPUPercent <= 45 && near50k.latency.p99 <= 25))
        }
        if let top = results.last {
            rows.append(top.latencyRow(scenario: "fanout"))
        }
        return ScenarioResult(
            scenario: "fanout",
            fields: [
                ("sessions", .int(sessions)), ("senders", .int(senders)), ("step_seconds", .double(stepSeconds)),
                ("best_deliveries_per_s", .double(best)),
                ("server_rss_kib", .int(memory.rssKiB)), ("server_peak_rss_kib", .int(memory.peakKiB)),
                ("steps", .array(results.map { $0.json(extra: [("target_deliveries_per_s", .double($0.targetMessagesPerSecond * Double(sessions)))]) })),
            ],
            summary: summary, rows: rows)
    }
}

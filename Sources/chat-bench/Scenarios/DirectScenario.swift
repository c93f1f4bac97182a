import Foundation

/// `direct`: `sessions` sessions (one account each) in pairs; both members of every pair send
/// direct messages to each other at rising total rates. A message counts once, at its recipient
/// (the sender's own copy is checked for, but not counted).
struct DirectScenario {
    var sessions: Int
    /// Target messages per second over all pairs, one step each.
    var steps: [Double]
    var stepSeconds: Double

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        let pairs = max(1, sessions / 2)
        let setup = try await BenchSetup.start(options, accounts: pairs * 2)
        do {
            let result = try await measure(setup, pairs: pairs)
            await setup.tearDown()
            return result
        } catch {
            await setup.tearDown()
            throw error
        }
    }

    private func measure(_ setup: BenchSetup, pairs: Int) async throws -> ScenarioResult {
        let logins = setup.accounts.logins
        try await setup.client.connect(tokens: logins.map(\.token), inFlight: 256, timeout: 120)
        let failures = try await setup.client.onLoop { setup.client.stats.failureCount }
        guard failures == 0 else { throw BenchError("\(failures) sessions could not open") }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let senders = (0..<pairs * 2).map { index in
            let partner = index ^ 1
            return RateSteps.Sender(session: index, recipient: (logins[partner].name, partner))
        }
        let runner = RateSteps(setup: setup, senders: senders, deliveriesPerMessage: 1, echoesPerMessage: 1, seconds: stepSeconds)
        var results: [RateSteps.Step] = []
        for rate in steps {
            let step = try await runner.run(messagesPerSecond: rate)
            results.append(step)
            if step.closed > 0 || step.latency.p99 > 2000 { break }
        }
        let ok = results.filter { $0.latency.p99 <= 50 && $0.missing == 0 && $0.closed == 0 && $0.deliveriesPerSecond >= 0.95 * $0.targetMessagesPerSecond }
        let best = ok.map(\.deliveriesPerSecond).max() ?? 0
        var summary = ["\(pairs * 2) sessions in \(pairs) pairs, \(Format.decimal(stepSeconds, 0)) s steps"]
        for step in results {
            summary.append("target \(Format.thousands(step.targetMessagesPerSecond))/s: \(Format.thousands(step.deliveriesPerSecond)) messages/s, "
                + "p50 \(Format.decimal(step.latency.p50, 2)) ms, p99 \(Format.decimal(step.latency.p99, 2)) ms, p99.9 \(Format.decimal(step.latency.p999, 2)) ms, "
                + "chatd CPU \(Format.decimal(step.serverCPUPercent, 0)) %, missing \(step.missing)")
        }
        var rows = [
            TableRow(scenario: "direct", metric: "messages/s with p99 ≤ 50 ms, none lost", measured: Format.thousands(best),
                     target: "≥ 100,000", met: best >= 100_000),
        ]
        if let top = results.last {
            rows.append(TableRow(scenario: "direct", metric: "latency at the highest step (\(Format.thousands(top.deliveriesPerSecond))/s)",
                                 measured: "p50 \(Format.decimal(top.latency.p50, 1)) / p99 \(Format.decimal(top.latency.p99, 1)) / p99.9 \(Format.decimal(top.latency.p999, 1)) ms",
                                 target: "p99 ≤ 50 ms", met: nil))
        }
        return ScenarioResult(
            scenario: "direct",
            fields: [
                ("sessions", .int(pairs * 2)), ("pairs", .int(pairs)), ("step_seconds", .double(stepSeconds)),
                ("best_messages_per_s", .double(best)),
                ("steps", .array(results.map { $0.json(extra: [("target_messages_per_s", .double($0.targetMessagesPerSecond))]) })),
            ],
            summary: summary, rows: rows)
    }
}

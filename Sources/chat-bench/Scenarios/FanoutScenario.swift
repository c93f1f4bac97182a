import Foundation

/// `fanout`: `sessions` sessions (one account each) in the broadcast channel, `senders` of them
/// sending at rising rates. Each message is stored, then delivered to every session, sender
/// included, so deliveries/s = messages/s × sessions.
struct FanoutScenario {
    var sessions: Int
    var senders: Int
    /// Target deliveries per second, one step each.
    var steps: [Double]
    var stepSeconds: Double

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        let setup = try await BenchSetup.start(options, accounts: sessions)
        do {
            let result = try await measure(setup)
            await setup.tearDown()
            return result
        } catch {
            await setup.tearDown()
            throw error
        }
    }

    private func measure(_ setup: BenchSetup) async throws -> ScenarioResult {
        try await setup.client.connect(tokens: setup.accounts.logins.map(\.token), inFlight: 256, timeout: 120)
        let failures = try await setup.client.onLoop { setup.client.stats.failureCount }
        guard failures == 0 else { throw BenchError("\(failures) sessions could not open") }
        // the join notices of the crowd above must not count into the first step
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let stride = max(1, sessions / max(senders, 1))
        let runner = RateSteps(
            setup: setup, senders: (0..<min(senders, sessions)).map { RateSteps.Sender(session: $0 * stride) },
            deliveriesPerMessage: sessions, echoesPerMessage: 0, seconds: stepSeconds)
        var results: [RateSteps.Step] = []
        for deliveries in steps {
            let step = try await runner.run(messagesPerSecond: deliveries / Double(sessions))
            results.append(step)
            if step.closed > 0 || step.latency.p99 > 2000 { break }
        }
        return report(results, steps: steps)
    }

    private func report(_ results: [RateSteps.Step], steps: [Double]) -> ScenarioResult {
        let ok = results.filter { $0.latency.p99 <= 50 && $0.missing == 0 && $0.closed == 0 && $0.deliveriesPerSecond >= 0.95 * $0.targetMessagesPerSecond * Double(sessions) }
        let best = ok.map(\.deliveriesPerSecond).max() ?? 0
        let near50k = results.min { abs($0.deliveriesPerSecond - 50_000) < abs($1.deliveriesPerSecond - 50_000) }
        var summary = ["\(sessions) sessions, \(senders) senders, \(Format.decimal(stepSeconds, 0)) s steps"]
        for step in results {
            summary.append("target \(Format.thousands(step.targetMessagesPerSecond * Double(sessions)))/s: \(Format.thousands(step.deliveriesPerSecond)) deliveries/s, "
                + "p50 \(Format.decimal(step.latency.p50, 2)) ms, p99 \(Format.decimal(step.latency.p99, 2)) ms, p99.9 \(Format.decimal(step.latency.p999, 2)) ms, "
                + "chatd CPU \(Format.decimal(step.serverCPUPercent, 0)) %, missing \(step.missing)")
        }
        var rows = [
            TableRow(scenario: "fanout", metric: "deliveries/s with p99 ≤ 50 ms, none lost", measured: Format.thousands(best),
                     target: "≥ 250,000", met: best >= 250_000),
        ]
        if let near50k, sessions >= 1000 {
            rows.append(TableRow(scenario: "fanout", metric: "chatd CPU at \(Format.thousands(near50k.deliveriesPerSecond)) deliveries/s",
                                 measured: "\(Format.decimal(near50k.serverCPUPercent, 0)) % of a core", target: "< 15 % at 50,000/s",
                                 met: near50k.serverCPUPercent < 15))
        }
        if let top = results.last {
            rows.append(TableRow(scenario: "fanout", metric: "latency at the highest step (\(Format.thousands(top.deliveriesPerSecond))/s)",
                                 measured: "p50 \(Format.decimal(top.latency.p50, 1)) / p99 \(Format.decimal(top.latency.p99, 1)) / p99.9 \(Format.decimal(top.latency.p999, 1)) ms",
                                 target: "p99 ≤ 50 ms", met: nil))
        }
        return ScenarioResult(
            scenario: "fanout",
            fields: [
                ("sessions", .int(sessions)), ("senders", .int(senders)), ("step_seconds", .double(stepSeconds)),
                ("best_deliveries_per_s", .double(best)),
                ("steps", .array(results.map { $0.json(extra: [("target_deliveries_per_s", .double($0.targetMessagesPerSecond * Double(sessions)))]) })),
            ],
            summary: summary, rows: rows)
    }
}

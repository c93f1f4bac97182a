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
        return try await BenchSetup.run(options, accounts: pairs * 2) { setup in try await measure(setup, pairs: pairs) }
    }

    private func measure(_ setup: BenchSetup, pairs: Int) async throws -> ScenarioResult {
        let logins = setup.accounts.logins
        try await setup.client.connect(tokens: logins.map(\.token), inFlight: 256, timeout: 120)
        let failures = try await setup.client.onLoop { setup.client.stats.failureCount }
        guard failures == 0 else { throw BenchError("\(failures) sessions could not open") }
        try await setup.client.settleJoinNotices(expected: pairs * (pairs * 2 - 1), timeout: 60)
        let senders = (0..<pairs * 2).map { index in
            let partner = index ^ 1
            return RateSteps.Sender(session: index, recipient: (logins[partner].name, partner))
        }
        let runner = RateSteps(setup: setup, senders: senders, deliveriesPerMessage: 1, echoesPerMessage: 1, seconds: stepSeconds)
        let results = try await runner.run(messagesPerSecond: steps)
        let best = results.filter { $0.met(target: $0.targetMessagesPerSecond) }.map(\.deliveriesPerSecond).max() ?? 0
        var summary = ["\(pairs * 2) sessions in \(pairs) pairs, \(Format.decimal(stepSeconds, 0)) s steps"]
        summary += results.map { $0.summary(target: $0.targetMessagesPerSecond, unit: "messages") }
        var rows = [
            TableRow(scenario: "direct", metric: "messages/s with p99 ≤ 50 ms, none lost", measured: Format.thousands(best),
                     target: "≥ 50,000 (100,000 deliveries with the senders' copies)", met: best >= 50_000),
        ]
        if let top = results.last {
            rows.append(top.latencyRow(scenario: "direct"))
        }
        return setup.describe(ScenarioResult(
            scenario: "direct",
            fields: [
                ("sessions", .int(pairs * 2)), ("pairs", .int(pairs)), ("step_seconds", .double(stepSeconds)),
                ("best_messages_per_s", .double(best)),
                ("steps", .array(results.map { $0.json(extra: [("target_messages_per_s", .double($0.targetMessagesPerSecond))]) })),
            ],
            summary: summary, rows: rows))
    }
}

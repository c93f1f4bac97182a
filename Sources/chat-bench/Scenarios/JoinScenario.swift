import Foundation

/// `join N`: N sessions of N different accounts connect (at most `inFlight` opening at once, like
/// a crowd arriving); the time until the last one has its `welcome`. Every first session of an
/// account is announced to everybody already there, so about N²/2 join notices flow meanwhile.
struct JoinScenario {
    var sessions: Int
    var inFlight: Int = 256

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        try await BenchSetup.run(options, accounts: sessions) { setup in try await measure(setup) }
    }

    private func measure(_ setup: BenchSetup) async throws -> ScenarioResult {
        try await Task.sleep(nanoseconds: 300_000_000)
        let cpuBefore = setup.serverCPUSeconds()
        let started = MonotonicClock.nanoseconds()
        try await setup.client.connect(tokens: setup.accounts.logins.map(\.token), inFlight: inFlight, timeout: 300)
        let (welcomes, lastWelcome, noticesAtEnd, failures) = try await setup.client.onLoop {
            let s = setup.client.stats
            return (s.welcomes, s.lastWelcomeNanos, s.joinNotices, s.failureCount)
        }
        let seconds = Double(lastWelcome - started) / 1e9
        let cpu = setup.serverCPUSeconds() - cpuBefore
        // the notices still in flight when the last welcome arrived
        let expected = sessions * (sessions - 1) / 2
        var notices = noticesAtEnd
        let drainDeadline = Date().addingTimeInterval(30)
        while notices < expected && Date() < drainDeadline {
            try await Task.sleep(nanoseconds: 100_000_000)
            notices = try await setup.client.onLoop { setup.client.stats.joinNotices }
        }
        let drained = Double(MonotonicClock.nanoseconds() - started) / 1e9
        return setup.describe(ScenarioResult(
            scenario: "join",
            fields: [
                ("sessions", .int(sessions)), ("welcomed", .int(welcomes)), ("failed", .int(failures)),
                ("seconds", .double(seconds)), ("joins_per_second", .double(Double(welcomes) / seconds)),
                ("join_notices_by_last_welcome", .int(noticesAtEnd)), ("join_notices", .int(notices)),
                ("join_notices_expected", .int(expected)), ("all_notices_seconds", .double(drained)),
                ("server_cpu_seconds", .double(cpu)),
            ],
            summary: [
                "\(welcomes) of \(sessions) sessions welcomed in \(Format.decimal(seconds, 2)) s (\(Format.thousands(Double(welcomes) / seconds))/s), \(failures) failed",
                "join notices: \(Format.thousands(Double(notices))) of \(Format.thousands(Double(expected))) delivered, all by \(Format.decimal(drained, 1)) s; chatd used \(Format.decimal(cpu, 1)) CPU s",
            ],
            rows: [
                TableRow(scenario: "join", metric: "\(Format.thousands(Double(sessions))) sessions welcomed", measured: "\(Format.decimal(seconds, 2)) s",
                         target: "5,000 in ≤ 15 s", met: sessions >= 5000 ? (welcomes == sessions && seconds <= 15) : nil),
                TableRow(scenario: "join", metric: "join notices delivered", measured: "\(Format.thousands(Double(notices))) in \(Format.decimal(drained, 1)) s",
                         target: "all \(Format.thousands(Double(expected)))", met: notices == expected),
            ]))
    }
}

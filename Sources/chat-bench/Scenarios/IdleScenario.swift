import Foundation

/// `idle N`: N authenticated sessions held open; chatd's resident memory per session.
///
/// The sessions are spread over `accounts` accounts (a team with several tabs and devices each):
/// every `welcome` lists every account, so N distinct accounts would measure N² bytes of user
/// lists rather than what an idle session costs.
struct IdleScenario {
    var sessions: Int
    var accounts: Int
    var settleSeconds: Double = 2

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        try await BenchSetup.run(options, accounts: min(accounts, sessions)) { setup in try await measure(setup) }
    }

    private func measure(_ setup: BenchSetup) async throws -> ScenarioResult {
        try await Task.sleep(nanoseconds: 500_000_000)
        let before = setup.serverMemory().rssKiB
        let logins = setup.accounts.logins
        let tokens = (0..<sessions).map { logins[$0 % logins.count].token }
        let started = Date()
        try await setup.client.connect(tokens: tokens, inFlight: 256, timeout: 300)
        let connectSeconds = Date().timeIntervalSince(started)
        try await Task.sleep(nanoseconds: UInt64(settleSeconds * 1e9))
        let after = setup.serverMemory().rssKiB
        let (welcomed, disconnects, failures, firstFailure) = try await setup.client.onLoop {
            let s = setup.client.stats
            return (s.welcomes, s.disconnects, s.failureCount, s.failures.first ?? "")
        }
        let held = welcomed - disconnects
        let perSession = Double(after - before) * 1024 / Double(max(held, 1))
        var summary = [
            "\(held) of \(sessions) sessions held (\(setup.accounts.logins.count) accounts), opened in \(Format.decimal(connectSeconds)) s",
            "chatd RSS \(before / 1024) MiB empty -> \(after / 1024) MiB: \(Format.decimal(perSession / 1024, 2)) KiB per session",
        ]
        if failures > 0 { summary.append("\(failures) sessions failed: \(firstFailure)") }
        return setup.describe(ScenarioResult(
            scenario: "idle",
            fields: [
                ("sessions", .int(sessions)), ("accounts", .int(setup.accounts.logins.count)), ("held", .int(held)),
                ("failed", .int(failures)), ("connect_seconds", .double(connectSeconds)),
                ("rss_empty_kib", .int(before)), ("rss_held_kib", .int(after)),
                ("rss_per_session_bytes", .int(Int(perSession))),
            ],
            summary: summary,
            rows: [
                TableRow(scenario: "idle", metric: "sessions held", measured: "\(held) of \(sessions)",
                         target: "15,000", met: held >= 15_000 ? true : (sessions < 15_000 ? nil : false)),
                TableRow(scenario: "idle", metric: "RSS per idle session", measured: "\(Format.decimal(perSession / 1024, 2)) KiB",
                         target: "≤ 10 KiB", met: perSession <= 10 * 1024),
            ]))
    }
}

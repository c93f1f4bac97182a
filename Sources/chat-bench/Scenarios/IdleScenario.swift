import Foundation

/// `idle N`: N authenticated sessions held open; chatd's resident memory per session, and with
/// `--hold S` chatd's CPU while it only holds them for S seconds: what idle sessions cost is
/// chatd's pings (every `--ping-interval`, 30 s by default), so S should span a ping round or two.
///
/// The sessions are spread over `accounts` accounts (a team with several tabs and devices each):
/// every `welcome` lists every account, so N distinct accounts would measure N² bytes of user
/// lists rather than what an idle session costs.
struct IdleScenario {
    var sessions: Int
    var accounts: Int
    var settleSeconds: Double = 2
    var holdSeconds: Double = 0
    /// chatd's `--ping-interval`: one ping round per interval while holding.
    var pingInterval: Int = 30

    func run(_ options: CommonOptions) async throws -> ScenarioResult {
        try await BenchSetup.run(options, accounts: min(accounts, sessions), extraArguments: ["--ping-interval", "\(pingInterval)"]) { setup in
            try await measure(setup)
        }
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
        var holdFields: [(String, JSONLine)] = []
        var holdRows: [TableRow] = []
        if holdSeconds > 0 {
            let cpuBefore = setup.serverCPUSeconds()
            let holdStarted = Date()
            try await Task.sleep(nanoseconds: UInt64(holdSeconds * 1e9))
            let cpuShare = (setup.serverCPUSeconds() - cpuBefore) / Date().timeIntervalSince(holdStarted)
            let rssAfterHold = setup.serverMemory().rssKiB
            let stillHeld = try await setup.client.onLoop { setup.client.stats.welcomes - setup.client.stats.disconnects }
            summary.append("held \(Format.decimal(holdSeconds, 0)) s: chatd used \(Format.decimal(cpuShare * 100)) % of a core "
                           + "(its pings and their pongs), RSS \(rssAfterHold / 1024) MiB after, \(stillHeld) sessions still open")
            // all chatd does while holding is ping: the CPU over the pings sent is one round's cost
            let rounds = holdSeconds / Double(pingInterval)
            let per10k = cpuShare * 10_000 / Double(max(stillHeld, 1))
            let perRound = cpuShare * holdSeconds / max(rounds * Double(max(stillHeld, 1)), 1e-9) * 1e6
            summary.append("one ping round: \(Format.decimal(perRound, 1)) µs of chatd CPU per session (\(Format.decimal(rounds, 1)) rounds)")
            holdFields = [("hold_seconds", .double(holdSeconds)), ("hold_cpu_percent", .double(cpuShare * 100)),
                          ("rss_after_hold_kib", .int(rssAfterHold)), ("held_after_hold", .int(stillHeld)),
                          ("ping_interval", .int(pingInterval)), ("ping_round_us_per_session", .double(perRound))]
            holdRows = [
                TableRow(scenario: "idle", metric: "one ping round per session", measured: "\(Format.decimal(perRound, 1)) µs of CPU",
                         target: "≤ 20 µs", met: perRound <= 20),
                TableRow(scenario: "idle", metric: "chatd CPU per 10,000 idle sessions (pings every \(pingInterval) s)",
                         measured: "\(Format.decimal(per10k * 100, 2)) % of a core", target: "≤ 1 %", met: per10k <= 0.01),
            ]
        }
        return setup.describe(ScenarioResult(
            scenario: "idle",
            fields: [
                ("sessions", .int(sessions)), ("accounts", .int(setup.accounts.logins.count)), ("held", .int(held)),
                ("failed", .int(failures)), ("connect_seconds", .double(connectSeconds)),
                ("rss_empty_kib", .int(before)), ("rss_held_kib", .int(after)),
                ("rss_per_session_bytes", .int(Int(perSession))),
            ] + holdFields,
            summary: summary,
            rows: [
                TableRow(scenario: "idle", metric: "sessions held", measured: "\(held) of \(sessions)",
                         target: "15,000", met: held >= 15_000 ? true : (sessions < 15_000 ? nil : false)),
                TableRow(scenario: "idle", metric: "RSS per idle session", measured: "\(Format.decimal(perSession / 1024, 2)) KiB",
                         target: "≤ 10 KiB", met: perSession <= 10 * 1024),
            ] + holdRows))
    }
}

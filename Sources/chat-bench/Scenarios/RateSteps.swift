import Foundation
import NIOCore

/// Drives a fixed message rate from a set of senders for one step and measures what arrives.
///
/// A timer on the generator's loop fires every 2 ms and sends however many messages the target
/// rate says are due by now (so a late tick catches up instead of lowering the rate); the step's
/// numbers are the deliveries received in the step's window, their latencies, and chatd's CPU
/// time over the same window (summed over a cluster's nodes, PostgreSQL's apart). After the window the senders stop and the step waits for every
/// expected delivery: anything still missing then is reported as lost.
struct RateSteps {
    /// One sender: a session index and, for direct messages, the recipient's name and index.
    struct Sender: Sendable {
        var session: Int
        var recipient: (name: String, index: Int)?
    }

    struct Step: Sendable {
        var targetMessagesPerSecond: Double
        var sentPerSecond: Double
        var deliveriesPerSecond: Double
        var latency: LatencySummary
        /// Summed over chatd's nodes (percent of one core).
        var serverCPUPercent: Double
        /// The throwaway PostgreSQL's CPU over the window (postmaster and its processes); nil
        /// when there is none.
        var databaseCPUPercent: Double?
        /// Seconds after the window until the last expected delivery arrived (or the wait gave up).
        var drainSeconds: Double
        var missing: Int
        var closed: Int
        /// `error` frames received during the step.
        var errors: Int

        /// One line of the human summary; `target` in the scenario's own unit.
        func summary(target: Double, unit: String) -> String {
            "target \(Format.thousands(target))/s: \(Format.thousands(deliveriesPerSecond)) \(unit)/s, "
                + "p50 \(Format.decimal(latency.p50, 2)) ms, p99 \(Format.decimal(latency.p99, 2)) ms, p99.9 \(Format.decimal(latency.p999, 2)) ms, "
                + "chatd CPU \(Format.decimal(serverCPUPercent, 0)) %"
                + (databaseCPUPercent.map { ", PostgreSQL CPU \(Format.decimal($0, 0)) %" } ?? "")
                + ", missing \(missing)" + (errors > 0 ? ", \(errors) error frames" : "")
                + (drainSeconds > 1 ? " (backlog drained \(Format.decimal(drainSeconds, 1)) s after the step)" : "")
        }

        /// Whether the step kept up with `target` (95 %) with p99 ≤ 50 ms, losing and closing nothing.
        func met(target: Double) -> Bool {
            latency.p99 <= 50 && missing == 0 && closed == 0 && errors == 0 && deliveriesPerSecond >= 0.95 * target
        }

        /// The table row for the latency of this (the highest) step.
        func latencyRow(scenario: String) -> TableRow {
            TableRow(scenario: scenario, metric: "latency at the highest step (\(Format.thousands(deliveriesPerSecond))/s)",
                     measured: "p50 \(Format.decimal(latency.p50, 1)) / p99 \(Format.decimal(latency.p99, 1)) / p99.9 \(Format.decimal(latency.p999, 1)) ms",
                     target: "p99 ≤ 50 ms", met: nil)
        }

        func json(extra: [(String, JSONLine)] = []) -> JSONLine {
            .object(extra + [
                ("sent_per_s", .double(sentPerSecond)), ("deliveries_per_s", .double(deliveriesPerSecond)),
                ("p50_ms", .double(latency.p50)), ("p99_ms", .double(latency.p99)), ("p999_ms", .double(latency.p999)),
                ("max_ms", .double(latency.max)), ("server_cpu_percent", .double(serverCPUPercent)),
            ] + (databaseCPUPercent.map { [("postgres_cpu_percent", JSONLine.double($0))] } ?? []) + [
                ("drain_seconds", .double(drainSeconds)), ("missing", .int(missing)), ("closed", .int(closed)), ("errors", .int(errors)),
            ])
        }
    }

    let setup: BenchSetup
    let senders: [Sender]
    /// Deliveries (counted at recipients) each message makes.
    let deliveriesPerMessage: Int
    /// Copies each message makes at its sender's own session besides those (direct messages).
    let echoesPerMessage: Int
    let seconds: Double

    /// Runs one step per rate, in order, and stops after a step where sessions were closed or p99
    /// passed 2 s: the server is saturated, and higher steps would only pile up backlog.
    func run(messagesPerSecond rates: [Double]) async throws -> [Step] {
        var results: [Step] = []
        for rate in rates {
            let step = try await run(messagesPerSecond: rate)
            results.append(step)
            if step.closed > 0 || step.latency.p99 > 2000 { break }
        }
        return results
    }

    func run(messagesPerSecond: Double) async throws -> Step {
        let client = setup.client
        let base = try await client.onLoop { () -> (deliveries: Int, echoes: Int, sent: Int, errors: Int) in
            client.stats.resetWindow()
            return (client.stats.deliveries, client.stats.echoes, client.stats.sent, client.stats.errorFrames)
        }
        let cpuStart = setup.serverCPUSeconds()
        let databaseStart = setup.databaseCPUSeconds()
        let ticker = Ticker(client: client, senders: senders, rate: messagesPerSecond, seconds: seconds)
        let startNanos = try await client.onLoop { ticker.start() }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        while try await client.onLoop({ ticker.running }) {
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        let windowSeconds = Double(MonotonicClock.nanoseconds() - startNanos) / 1e9
        let cpu = setup.serverCPUSeconds() - cpuStart
        let databaseCPU = setup.databaseCPUSeconds().flatMap { end in databaseStart.map { end - $0 } }
        let windowEnd = MonotonicClock.nanoseconds()
        let (deliveries, latencies, sent) = try await client.onLoop { () -> (Int, [Int32], Int) in
            (client.stats.deliveries - base.deliveries, client.stats.latencies, client.stats.sent - base.sent)
        }
        // let the backlog arrive, then count what never did
        var missing = 0
        let deadline = Date().addingTimeInterval(setup.drainSeconds)
        repeat {
            try await Task.sleep(nanoseconds: 50_000_000)
            let (got, echoes) = try await client.onLoop { (client.stats.deliveries - base.deliveries, client.stats.echoes - base.echoes) }
            missing = (sent * deliveriesPerMessage - got) + (sent * echoesPerMessage - echoes)
        } while missing > 0 && Date() < deadline
        let drained = Double(MonotonicClock.nanoseconds() - windowEnd) / 1e9
        let (closed, errors) = try await client.onLoop { (client.stats.disconnects, client.stats.errorFrames - base.errors) }
        return Step(
            targetMessagesPerSecond: messagesPerSecond, sentPerSecond: Double(sent) / windowSeconds,
            deliveriesPerSecond: Double(deliveries) / windowSeconds, latency: LatencySummary(microseconds: latencies),
            serverCPUPercent: cpu / windowSeconds * 100, databaseCPUPercent: databaseCPU.map { $0 / windowSeconds * 100 },
            drainSeconds: drained, missing: missing, closed: closed, errors: errors)
    }

    /// The sending timer; lives on the generator's loop.
    private final class Ticker: @unchecked Sendable {
        let client: BenchClient
        let senders: [Sender]
        let rate: Double
        let seconds: Double
        var running = false
        private var startNanos: Int64 = 0
        private var sent = 0
        private var next = 0
        private var task: RepeatedTask?

        init(client: BenchClient, senders: [Sender], rate: Double, seconds: Double) {
            self.client = client
            self.senders = senders
            self.rate = rate
            self.seconds = seconds
        }

        func start() -> Int64 {
            startNanos = MonotonicClock.nanoseconds()
            running = true
            task = client.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(2)) { [self] task in
                tick(task)
            }
            return startNanos
        }

        private func tick(_ task: RepeatedTask) {
            let elapsed = Double(MonotonicClock.nanoseconds() - startNanos) / 1e9
            guard elapsed < seconds else {
                running = false
                task.cancel()
                return
            }
            let due = Int(rate * elapsed) - sent
            guard due > 0 else { return }
            let connections = client.connections
            var touched: [Int] = []
            for _ in 0..<due {
                let sender = senders[next % senders.count]
                next += 1
                connections[sender.session].sendMessage(to: sender.recipient, flush: false)
                touched.append(sender.session)
            }
            sent += due
            for session in Set(touched) { connections[session].flush() }
        }
    }
}

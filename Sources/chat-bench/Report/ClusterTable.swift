import Foundation

/// The table `chat-bench cluster` prints: the fan-out steps of each deployment (one SQLite node,
/// then clusters of 1, 2, 3… nodes on PostgreSQL) one under the other, so that what the cluster
/// costs at the same offered load reads straight down a column.
enum ClusterTable {
    struct Run {
        var label: String
        var steps: [RateSteps.Step] = []
        /// Sessions each message is delivered to: target deliveries/s = messages/s × this.
        var deliveriesPerMessage = 1
        var failure: String?
        /// `postgres_settings` and the log-problem counts of the JSON line, when the run finished.
        var settings: String?
        var chatdLogProblems = 0
        var postgresLogProblems = 0

        init(label: String, result: ScenarioResult, steps: [RateSteps.Step], deliveriesPerMessage: Int) {
            self.label = label
            self.steps = steps
            self.deliveriesPerMessage = deliveriesPerMessage
            for (key, value) in result.fields {
                switch (key, value) {
                case ("postgres_settings", .string(let text)): settings = text
                case ("chatd_log_problems", .int(let count)): chatdLogProblems = count
                case ("postgres_log_problems", .int(let count)): postgresLogProblems = count
                default: break
                }
            }
        }

        init(label: String, failure: String) {
            self.label = label
            self.failure = failure
        }
    }

    static func markdown(_ runs: [Run], header: String) -> String {
        var text = header + "\n\n| chatd | target/s | deliveries/s | p50 ms | p99 ms | p99.9 ms | chatd CPU | PostgreSQL CPU | missing |\n"
            + "|---|---|---|---|---|---|---|---|---|\n"
        for run in runs {
            if let failure = run.failure {
                text += "| \(run.label) | failed: \(failure.replacingOccurrences(of: "|", with: "/")) | | | | | | | |\n"
                continue
            }
            for step in run.steps {
                let target = step.targetMessagesPerSecond * Double(run.deliveriesPerMessage)
                text += "| \(run.label) | \(Format.thousands(target)) | \(Format.thousands(step.deliveriesPerSecond)) "
                    + "| \(Format.decimal(step.latency.p50, 1)) | \(Format.decimal(step.latency.p99, 1)) | \(Format.decimal(step.latency.p999, 1)) "
                    + "| \(Format.decimal(step.serverCPUPercent, 0)) % | \(step.databaseCPUPercent.map { "\(Format.decimal($0, 0)) %" } ?? "–") "
                    + "| \(step.missing)\(step.closed > 0 ? ", \(step.closed) closed" : "")\(step.errors > 0 ? ", \(step.errors) errors" : "") |\n"
            }
        }
        text += "\n"
        for run in runs where run.failure == nil {
            let lost = run.steps.reduce(0) { $0 + $1.missing }
            text += "- \(run.label): \(lost == 0 ? "nothing lost" : "\(lost) deliveries missing")"
                + ", chatd logged \(run.chatdLogProblems) warnings/errors"
                + (run.settings == nil ? "" : ", PostgreSQL logged \(run.postgresLogProblems) errors") + "\n"
        }
        // the same server every run; its work directory differs, so only what follows the colon
        if let settings = runs.compactMap(\.settings).first {
            let server = settings.range(of: ": ").map { String(settings[$0.upperBound...]) } ?? settings
            text += "- PostgreSQL: \(server)\n"
        }
        return text
    }
}

/// What the generator's sessions saw. Touched only on the generator's single event loop (every
/// connection lives there), so plain counters are enough; scenarios read it through
/// ``BenchClient/onLoop(_:)``.
final class BenchStats: @unchecked Sendable {
    var welcomes = 0
    var joinNotices = 0
    var sent = 0
    var deliveries = 0
    var echoes = 0
    /// `error` frames the server sent (a refused or unstored message): a benchmark run has none.
    var errorFrames = 0
    /// Latencies of the deliveries since the last ``resetWindow()``, in microseconds.
    var latencies: [Int32] = []
    var disconnects = 0
    /// The first few failures, to show; ``failureCount`` counts them all.
    var failures: [String] = []
    var failureCount = 0
    var lastWelcomeNanos: Int64 = 0

    func welcomed() {
        welcomes += 1
        lastWelcomeNanos = MonotonicClock.nanoseconds()
    }

    func delivered(latencyNanos: Int64) {
        deliveries += 1
        latencies.append(Int32(clamping: latencyNanos / 1000))
    }

    func disconnected() {
        disconnects += 1
    }

    func failed(error: String) {
        failureCount += 1
        if failures.count < 5 { failures.append(error) }
    }

    func resetWindow() {
        latencies.removeAll(keepingCapacity: true)
    }
}

/// Latency percentiles of one measurement window, in milliseconds.
struct LatencySummary: Sendable {
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double
    var samples: Int

    init(microseconds: [Int32]) {
        let sorted = microseconds.sorted()
        samples = sorted.count
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)
            return Double(sorted[Swift.max(0, index)]) / 1000
        }
        p50 = at(0.5)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted.last ?? 0) / 1000
    }
}

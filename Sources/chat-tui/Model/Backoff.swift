/// Delays between reconnection attempts: exponential from 1 s, capped at 60 s, with jitter so that
/// the clients of a restarted server do not all come back in the same second. The random draw is a
/// parameter, so the policy is pure and tests can pin it.
///
/// "Equal jitter": the n-th delay lies in [ceiling/2, ceiling] with ceiling = min(60, 2^(n-1)) s. Half
/// of the wait is guaranteed, which keeps the growth visible; the other half spreads the herd.
struct Backoff: Equatable, Sendable {
    var initial: Double = 1
    var maximum: Double = 60
    /// Failed attempts since the last successful session.
    private(set) var failures = 0

    /// The upper bound of the next delay, before jitter.
    var nextCeiling: Double {
        // 2^failures overflows nothing: the cap is reached long before the exponent gets large.
        min(maximum, initial * Double(1 << min(failures, 30)))
    }

    /// The next delay in seconds. `jitter` is a uniform draw from 0...1.
    mutating func nextDelay(jitter: Double) -> Double {
        let ceiling = nextCeiling
        failures += 1
        let unit = min(1, max(0, jitter))
        return ceiling / 2 + ceiling / 2 * unit
    }

    /// A session got through: the next failure starts again at the initial delay.
    mutating func reset() {
        failures = 0
    }
}

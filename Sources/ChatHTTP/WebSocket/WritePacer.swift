import NIOCore
import Synchronization

/// How often one session's socket may be written to, decided from the whole server's load.
///
/// Each write costs the kernel 5–8 µs on a small VM whatever it carries (BENCHMARKS.md, "The
/// floor"), so at high rates the number of writes, not the bytes, fills the core. While the
/// server sends fewer than ``busyAbove`` frames a second, a session's frames are written as soon
/// as its drain runs (4 ms after the fan-out, ``DrainRequests``). Above it, a session written to
/// less than ``interval`` ago waits for the rest of that interval, so each write carries every
/// frame that came meanwhile: at 100 frames a second per session that halves the writes, for at
/// most ``interval`` of added latency, and only while the server is that busy. It stops below
/// ``quietBelow`` (two thresholds, so that the halved writes do not switch it off again).
final class WritePacer: Sendable {
    /// Frames a second (all sessions) from which writes are paced.
    static let busyAbove = 70_000
    static let quietBelow = 45_000
    /// The shortest time between two writes to one session while busy.
    static let interval = TimeAmount.milliseconds(20)
    /// How long the frame count is taken over before the rate is decided again.
    private static let window: Int64 = 250_000_000

    private let frames = Atomic<Int>(0)
    private let windowStart = Atomic<Int64>(0)
    private let busy = Atomic<Bool>(false)

    init() {}

    /// The least time between two writes to one session now: zero unless the server is busy.
    var minimumInterval: TimeAmount {
        busy.load(ordering: .relaxed) ? Self.interval : .zero
    }

    /// `count` frames were written at `now`.
    func record(_ count: Int, now: NIODeadline) {
        let total = frames.wrappingAdd(count, ordering: .relaxed).newValue
        let nanos = Int64(now.uptimeNanoseconds)
        let start = windowStart.load(ordering: .relaxed)
        guard nanos - start >= Self.window else { return }
        // one thread closes the window
        guard windowStart.compareExchange(expected: start, desired: nanos, ordering: .relaxed).exchanged else { return }
        frames.store(0, ordering: .relaxed)
        guard start != 0 else { return }
        let perSecond = Int(Int64(total) * 1_000_000_000 / (nanos - start))
        if perSecond > Self.busyAbove {
            busy.store(true, ordering: .relaxed)
        } else if perSecond < Self.quietBelow {
            busy.store(false, ordering: .relaxed)
        }
    }
}

import NIOCore
import Testing
@testable import ChatHTTP

/// When writes are paced: only above the busy rate, until the rate falls below the quiet one.
@Suite("Write pacer")
struct WritePacerTests {
    /// `perSecond` frames a second for one window, recorded in ten steps, from `start`.
    func feed(_ pacer: WritePacer, perSecond: Int, from start: NIODeadline) -> NIODeadline {
        var now = start
        for _ in 0..<10 {
            now = now + .milliseconds(30)
            pacer.record(perSecond * 30 / 1000, now: now)
        }
        return now
    }

    @Test func pacesOnlyWhileBusyWithHysteresis() {
        let pacer = WritePacer()
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        pacer.record(0, now: now)
        now = feed(pacer, perSecond: 50_000, from: now)
        #expect(pacer.minimumInterval == .zero, "50,000 frames a second is not busy")
        now = feed(pacer, perSecond: 100_000, from: now)
        now = feed(pacer, perSecond: 100_000, from: now)
        #expect(pacer.minimumInterval == WritePacer.interval, "100,000 a second is")
        now = feed(pacer, perSecond: 55_000, from: now)
        now = feed(pacer, perSecond: 55_000, from: now)
        #expect(pacer.minimumInterval == WritePacer.interval, "between the thresholds it stays paced")
        now = feed(pacer, perSecond: 10_000, from: now)
        now = feed(pacer, perSecond: 10_000, from: now)
        #expect(pacer.minimumInterval == .zero, "quiet again")
    }
}

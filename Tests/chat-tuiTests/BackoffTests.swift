import Testing

@testable import chat_tui

@Suite("Reconnect backoff")
struct BackoffTests {
    @Test func doublesFromOneSecondUpToTheCap() {
        var backoff = Backoff()
        let delays = (0..<9).map { _ in backoff.nextDelay(jitter: 1) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60])
        #expect(backoff.failures == 9)
    }

    @Test func jitterSpreadsOverTheUpperHalf() {
        var low = Backoff()
        var middle = Backoff()
        for _ in 0..<3 {
            _ = low.nextDelay(jitter: 0)
            _ = middle.nextDelay(jitter: 0.5)
        }
        #expect(low.nextDelay(jitter: 0) == 4, "ceiling 8: half of it at least")
        #expect(middle.nextDelay(jitter: 0.5) == 6)
        var capped = Backoff()
        for _ in 0..<20 { _ = capped.nextDelay(jitter: 0) }
        #expect(capped.nextDelay(jitter: 0) == 30)
        #expect(capped.nextDelay(jitter: 7) == 60, "a draw outside 0...1 is clamped")
    }

    @Test func resetStartsOver() {
        var backoff = Backoff()
        for _ in 0..<5 { _ = backoff.nextDelay(jitter: 1) }
        backoff.reset()
        #expect(backoff.nextDelay(jitter: 1) == 1)
    }
}

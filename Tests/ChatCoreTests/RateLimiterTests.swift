import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


@Suite("Rate limiter")
struct RateLimiterTests {
    @Test func burstThenSteadyRate() {
        let limiter = RateLimiter(rate: .init(perSecond: 2, burst: 3))
        #expect((0..<3).allSatisfy { _ in limiter.allow(accountID: 1, now: 0) })
        #expect(!limiter.allow(accountID: 1, now: 0))
        #expect(limiter.allow(accountID: 2, now: 0), "each account has its own bucket")
        #expect(limiter.allow(accountID: 1, now: 0.5))
        #expect(!limiter.allow(accountID: 1, now: 0.5))
    }

    @Test func unlimited() {
        let limiter = RateLimiter(rate: .unlimited)
        #expect((0..<10_000).allSatisfy { _ in limiter.allow(accountID: 1, now: 0) })
    }
}

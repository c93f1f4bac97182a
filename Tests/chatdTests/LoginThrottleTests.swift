import Testing

@testable import chatd
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatStorePostgres
@testable import ChatTLS
@testable import ChatHTTP
@testable import ChatFTP

@Suite("Login lockout")
struct LoginThrottleTests {
    @Test func fifthFailureLocksTheNameForSixtySeconds() {
        var throttle = LoginThrottle()
        for second in 0..<4 {
            throttle.recordFailure(nameKey: "alice", address: "a\(second)", now: Double(second))
            #expect(throttle.retryAfter(nameKey: "alice", address: "x", now: Double(second)) == nil)
        }
        throttle.recordFailure(nameKey: "alice", address: "a4", now: 4)
        #expect(throttle.retryAfter(nameKey: "alice", address: "x", now: 4) == 60)
        #expect(throttle.retryAfter(nameKey: "alice", address: "x", now: 63.5) == 0.5)
        #expect(throttle.retryAfter(nameKey: "alice", address: "x", now: 64) == nil)
        #expect(throttle.retryAfter(nameKey: "bob", address: "x", now: 5) == nil, "other names are not affected")
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        var throttle = LoginThrottle()
        for minute in 0..<8 {
            throttle.recordFailure(nameKey: "alice", address: "a", now: Double(minute) * 100)
        }
        // never more than 3 inside any 300 s window
        #expect(throttle.retryAfter(nameKey: "alice", address: "b", now: 701) == nil)
    }

    @Test func successResetsTheNameCount() {
        var throttle = LoginThrottle()
        for second in 0..<4 { throttle.recordFailure(nameKey: "alice", address: "a", now: Double(second)) }
        throttle.recordSuccess(nameKey: "alice")
        throttle.recordFailure(nameKey: "alice", address: "a", now: 5)
        #expect(throttle.retryAfter(nameKey: "alice", address: "b", now: 5) == nil)
    }

    @Test func fiftyFailuresFromOneAddressLockIt() {
        var throttle = LoginThrottle()
        for index in 0..<49 {
            throttle.recordFailure(nameKey: "user\(index)", address: "10.0.0.1", now: Double(index) / 10)
        }
        #expect(throttle.retryAfter(nameKey: "fresh", address: "10.0.0.1", now: 5) == nil)
        throttle.recordFailure(nameKey: "user49", address: "10.0.0.1", now: 5)
        #expect(throttle.retryAfter(nameKey: "fresh", address: "10.0.0.1", now: 5) == 60)
        #expect(throttle.retryAfter(nameKey: "fresh", address: "10.0.0.2", now: 5) == nil)
    }

    @Test func zeroFailuresPolicyDisables() {
        var throttle = LoginThrottle(namePolicy: .init(failures: 0, window: 0, lockout: 0), addressPolicy: .perAddress)
        for second in 0..<20 { throttle.recordFailure(nameKey: "alice", address: "a\(second)", now: Double(second)) }
        #expect(throttle.retryAfter(nameKey: "alice", address: "b", now: 20) == nil)
    }
}

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

@Suite("Account directory")
struct AccountDirectoryTests {
    @Test func hitsExpireAndMissesAreNotRemembered() {
        var directory = AccountDirectory(lifetimeSeconds: 10, capacity: 2)
        let alice = Account(id: 1, name: "Alice")
        #expect(directory.account(key: "alice", now: 0) == nil)
        directory.remember(alice, key: "alice", now: 0)
        #expect(directory.account(key: "alice", now: 9.9) == alice)
        #expect(directory.account(key: "alice", now: 10) == nil, "a deleted account is forgotten within the lifetime")
        directory.remember(Account(id: 2, name: "b"), key: "b", now: 20)
        directory.remember(Account(id: 3, name: "c"), key: "c", now: 20)
        directory.remember(Account(id: 4, name: "d"), key: "d", now: 20)
        #expect(directory.account(key: "d", now: 20)?.id == 4, "full of live entries: starts over, keeps working")
    }
}

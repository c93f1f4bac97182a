import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


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

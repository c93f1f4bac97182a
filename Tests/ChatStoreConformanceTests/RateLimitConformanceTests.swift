import Foundation
import Testing
@testable import ChatCore

/// ``MessageRateLimit`` on both backends: the token bucket is written in Swift (``RateLimiter``)
/// and as one SQL upsert (``PostgresRateLimiter``); at the same rate both must let the same burst
/// through and refuse the message after it.
@Suite("Rate limit conformance")
struct RateLimitConformanceTests {
    /// A refill far too slow to add a token during the test, so the burst alone decides.
    static let slow = 0.001

    @Test("the burst passes, the next message is refused; buckets are per account", arguments: StoreBackend.allCases)
    func burstThenRefused(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let limit = stores.rateLimit(RateLimiter.Rate(perSecond: Self.slow, burst: 5))
            var answers: [Bool] = []
            for _ in 0..<7 { answers.append(try await limit.allow(accountID: 1)) }
            #expect(answers == [true, true, true, true, true, false, false])
            #expect(try await limit.allow(accountID: 2), "another account has its own bucket")
        }
    }

    /// `--rate 1/2.5`: a fractional burst lets its whole tokens through.
    @Test("a fractional burst lets its whole tokens through", arguments: StoreBackend.allCases)
    func fractionalBurst(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let limit = stores.rateLimit(RateLimiter.Rate(perSecond: Self.slow, burst: 2.5))
            var answers: [Bool] = []
            for _ in 0..<4 { answers.append(try await limit.allow(accountID: 7)) }
            #expect(answers == [true, true, false, false])
        }
    }

    @Test("the bucket refills at the rate, up to the burst", arguments: StoreBackend.allCases)
    func refills(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let limit = stores.rateLimit(RateLimiter.Rate(perSecond: 2, burst: 2))
            #expect(try await limit.allow(accountID: 1))
            #expect(try await limit.allow(accountID: 1))
            #expect(try await limit.allow(accountID: 1) == false, "empty (a token takes 500 ms to come back)")
            // 1.2 s at 2/s is 2.4 tokens, capped at the burst: 2 pass and the third is refused
            try await Task.sleep(for: .milliseconds(1_200))
            var answers: [Bool] = []
            for _ in 0..<3 { answers.append(try await limit.allow(accountID: 1)) }
            #expect(answers == [true, true, false])
        }
    }

    @Test("--rate 0 allows everything", arguments: StoreBackend.allCases)
    func unlimited(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let limit = stores.rateLimit(.unlimited)
            for _ in 0..<50 { #expect(try await limit.allow(accountID: 1)) }
        }
    }
}

import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


/// Sliding token expiry (PROTOCOL.md §1), decided once for both stores.
@Suite("Token lifetime")
struct TokenLifetimeTests {
    let lifetime = TokenLifetime(days: 30)
    let day: Int64 = 86_400_000

    @Test func aNewTokenLivesTheWholeLifetime() {
        #expect(lifetime.end(issuedAtMillis: 1_000) == 1_000 + 30 * day)
    }

    @Test func anExpiredTokenIsRefused() {
        #expect(lifetime.verdict(endMillis: 5_000, nowMillis: 5_000) == .expired)
        #expect(lifetime.verdict(endMillis: 5_000, nowMillis: 9_000) == .expired)
    }

    @Test func useSlidesTheEndButWritesAtMostHourly() {
        let issued: Int64 = 1_000_000
        let end = lifetime.end(issuedAtMillis: issued)
        #expect(lifetime.verdict(endMillis: end, nowMillis: issued + TokenLifetime.extensionStepMillis) == .valid)
        let later = issued + TokenLifetime.extensionStepMillis + 1
        #expect(lifetime.verdict(endMillis: end, nowMillis: later) == .extend(toMillis: later + 30 * day))
        #expect(lifetime.verdict(endMillis: end, nowMillis: end - 1) == .extend(toMillis: end - 1 + 30 * day))
    }
}

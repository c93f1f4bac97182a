import Foundation
import Testing
@testable import ChatCore
import Shared

/// ``LoginGuard`` on both backends: the window and threshold arithmetic is written twice, in
/// Swift (``LoginThrottle`` behind ``LocalLoginGuard``) and in SQL (``PostgresLoginGuard``), so
/// the same sequence of failures and successes must give the same verdicts. The clocks differ
/// (this process's, the database server's), so a verdict is compared as "locked or not", and a
/// wait as lying in (0, lockout].
@Suite("Login guard conformance")
struct LoginGuardConformanceTests {
    /// Policies short enough for a test, and none that trips by accident.
    static func policy(failures: Int, lockout: Double = 30) -> LoginThrottle.Policy {
        LoginThrottle.Policy(failures: failures, window: 60, lockout: lockout)
    }

    static let never = policy(failures: 1_000)

    /// Expects `wait` to be a lock's wait: more than nothing, at most the lockout.
    static func expectLocked(_ wait: Double?, lockout: Double, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(wait != nil, comment, sourceLocation: sourceLocation)
        if let wait {
            #expect(wait > 0 && wait <= lockout, "\(comment): waits \(wait) s", sourceLocation: sourceLocation)
        }
    }

    @Test("the name locks after N failures, from any address, for any spelling", arguments: StoreBackend.allCases)
    func nameLocksAfterNFailures(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let guardian = stores.loginGuard(name: Self.policy(failures: 3), address: Self.never)
            let key = Username.canonicalKey("Alice")
            try await guardian.recordFailure(nameKey: key, address: "10.0.0.1")
            try await guardian.recordFailure(nameKey: key, address: "10.0.0.2")
            #expect(try await guardian.retryAfter(nameKey: key, address: "10.0.0.9") == nil, "2 of 3 failures: not yet")
            try await guardian.recordFailure(nameKey: Username.canonicalKey("ALICE"), address: "10.0.0.3")
            Self.expectLocked(try await guardian.retryAfter(nameKey: key, address: "10.0.0.9"), lockout: 30, "3 failures lock the name")
            Self.expectLocked(try await guardian.retryAfter(nameKey: Username.canonicalKey("aLiCe"), address: "10.0.0.1"),
                              lockout: 30, "every spelling is one key")
            #expect(try await guardian.retryAfter(nameKey: "bob", address: "10.0.0.1") == nil, "other names are not locked")
        }
    }

    @Test("a success clears the name's failures", arguments: StoreBackend.allCases)
    func successResetsTheName(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let guardian = stores.loginGuard(name: Self.policy(failures: 3), address: Self.never)
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            try await guardian.recordSuccess(nameKey: "alice")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            #expect(try await guardian.retryAfter(nameKey: "alice", address: "a") == nil, "2 failures since the success")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            Self.expectLocked(try await guardian.retryAfter(nameKey: "alice", address: "a"), lockout: 30, "3 since the success")
        }
    }

    /// A success does not clear the address's count: one good password must not let a guesser
    /// reset its own.
    @Test("the address locks after N failures for any names; a success does not clear it", arguments: StoreBackend.allCases)
    func addressLocks(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let guardian = stores.loginGuard(name: Self.never, address: Self.policy(failures: 3, lockout: 20))
            try await guardian.recordFailure(nameKey: "u1", address: "192.0.2.1")
            try await guardian.recordFailure(nameKey: "u2", address: "192.0.2.1")
            try await guardian.recordSuccess(nameKey: "u2")
            #expect(try await guardian.retryAfter(nameKey: "u3", address: "192.0.2.1") == nil)
            try await guardian.recordFailure(nameKey: "u3", address: "192.0.2.1")
            Self.expectLocked(try await guardian.retryAfter(nameKey: "anyone", address: "192.0.2.1"), lockout: 20,
                              "3 failures lock the address, the success between did not reset it")
            #expect(try await guardian.retryAfter(nameKey: "anyone", address: "192.0.2.2") == nil, "other addresses are not locked")
            #expect(try await guardian.retryAfter(nameKey: "u1", address: "192.0.2.2") == nil, "the names are not locked")
        }
    }

    @Test("a lock ends after the lockout", arguments: StoreBackend.allCases)
    func lockEnds(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let guardian = stores.loginGuard(name: Self.policy(failures: 2, lockout: 1), address: Self.never)
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            Self.expectLocked(try await guardian.retryAfter(nameKey: "alice", address: "a"), lockout: 1, "locked for 1 s")
            try await Task.sleep(for: .milliseconds(1_300))
            #expect(try await guardian.retryAfter(nameKey: "alice", address: "a") == nil, "the lock ended")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            #expect(try await guardian.retryAfter(nameKey: "alice", address: "a") == nil, "the count started again")
        }
    }

    @Test("a policy of 0 failures never locks (--lockout-name 0, --lockout-address 0)", arguments: StoreBackend.allCases)
    func zeroNeverLocks(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let guardian = stores.loginGuard(name: Self.policy(failures: 0), address: Self.policy(failures: 0))
            for _ in 0..<5 { try await guardian.recordFailure(nameKey: "alice", address: "a") }
            #expect(try await guardian.retryAfter(nameKey: "alice", address: "a") == nil)
        }
    }

    /// PROTOCOL.md §1: while locked, attempts are refused until the lock ends. A success can only
    /// be recorded for a name that was not locked when its attempt began, so this is the race of
    /// two logins: one locks the name, the other's correct password lands just after.
    @Test("a success recorded while the name is locked leaves the lock", arguments: StoreBackend.allCases)
    func successDuringLockKeepsIt(_ backend: StoreBackend) async throws {
        try await backend.withStores { (stores: Stores) async throws in
            let guardian = stores.loginGuard(name: Self.policy(failures: 2), address: Self.never)
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            try await guardian.recordFailure(nameKey: "alice", address: "a")
            try await guardian.recordSuccess(nameKey: "alice")
            Self.expectLocked(try await guardian.retryAfter(nameKey: "alice", address: "a"), lockout: 30, "still locked")
        }
    }
}

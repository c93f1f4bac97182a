import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


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

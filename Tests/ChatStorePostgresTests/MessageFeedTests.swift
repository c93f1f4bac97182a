import Logging
import Synchronization
import Testing
@testable import ChatCore
@testable import ChatStorePostgres
import ChatTestSupport


/// The cluster's delivery loop without a database: committed messages come from an in-memory
/// table, deliveries are recorded. What must hold: every message is delivered once, in id order,
/// whether it arrives as this node's own batch, as a notification, or only through a later look.
@Suite struct MessageFeedTests {
    /// An in-memory `messages` table that counts how often the feed reads it.
    final class Table: CommittedMessages {
        let rows = Mutex<[StoredMessage]>([])
        let reads = Mutex(0)

        func commit(_ ids: ClosedRange<Int64>) -> [StoredMessage] {
            let batch = ids.map(MessageFeedTests.message)
            rows.withLock { $0 += batch }
            return batch
        }

        func messages(after id: Int64, limit: Int) async throws -> [StoredMessage] {
            reads.withLock { $0 += 1 }
            return rows.withLock { Array($0.filter { $0.id > id }.sorted { $0.id < $1.id }.prefix(limit)) }
        }
    }

    final class Recorder: MessageDelivery {
        let delivered = Mutex<[Int64]>([])
        func deliver(_ batch: [StoredMessage]) {
            delivered.withLock { $0 += batch.map(\.id) }
        }
    }

    static func message(_ id: Int64) -> StoredMessage {
        StoredMessage(id: id, sender: Account(id: 1, name: "a"), recipient: nil, body: "m\(id)", createdAtMillis: 0, clientID: nil)
    }

    /// Runs a feed starting after `start`, lets `act` drive it, stops it, and returns what it delivered.
    func run(start: Int64 = 0, table: Table, until expected: [Int64], _ act: (MessageFeed) async throws -> Void) async throws -> [Int64] {
        let recorder = Recorder()
        let feed = MessageFeed(store: table, hub: recorder, startAfter: start, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let loop = Task { await feed.run() }
        try await act(feed)
        let deadline = ContinuousClock.now + .seconds(5)
        while recorder.delivered.withLock({ $0.count }) < expected.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(50))
        feed.stop()
        await loop.value
        return recorder.delivered.withLock { $0 }
    }

    @Test func ownBatchRightAboveTheCursorIsDeliveredWithoutReadingItBack() async throws {
        let table = Table()
        let delivered = try await run(table: table, until: [1, 2, 3]) { feed in
            feed.deliver(table.commit(1...3))
        }
        #expect(delivered == [1, 2, 3])
        #expect(table.reads.withLock { $0 } == 0)
    }

    /// Another node committed 1...2 before this node's 3...4: the notification has not arrived,
    /// but the gap is seen and read first, so the order holds.
    @Test func aGapBeforeOwnBatchIsReadFromTheTableFirst() async throws {
        let table = Table()
        _ = table.commit(1...2)
        let delivered = try await run(table: table, until: [1, 2, 3, 4]) { feed in
            feed.deliver(table.commit(3...4))
        }
        #expect(delivered == [1, 2, 3, 4])
    }

    @Test func notificationsAndLooksDeliverEachMessageOnce() async throws {
        let table = Table()
        let delivered = try await run(table: table, until: Array(1...6)) { feed in
            _ = table.commit(1...2)
            feed.poke(upTo: 2)
            let own = table.commit(3...4)
            feed.poke(upTo: 4)          // this node's own notification may come before its batch
            feed.deliver(own)
            _ = table.commit(5...6)
            feed.poke()                 // a heartbeat's look, no id known
            feed.poke(upTo: 6)
        }
        #expect(delivered == Array(1...6))
    }

    @Test func aNotificationForWhatWasAlreadyDeliveredReadsNothing() async throws {
        let table = Table()
        let delivered = try await run(table: table, until: [1]) { feed in
            feed.deliver(table.commit(1...1))
            try await Task.sleep(for: .milliseconds(50))
            feed.poke(upTo: 1)
        }
        #expect(delivered == [1])
        #expect(table.reads.withLock { $0 } == 0)
    }

    /// A node that starts after messages exist delivers only what comes after, and catches up
    /// across several pages when far behind.
    @Test func startsAfterTheCursorAndCatchesUpInPages() async throws {
        let table = Table()
        _ = table.commit(1...10)
        let count = Int64(MessageFeed.pageSize) * 2 + 5
        let expected = Array(11...(10 + count))
        let delivered = try await run(start: 10, table: table, until: expected) { feed in
            _ = table.commit(11...(10 + count))
            feed.poke(upTo: 10 + count)
        }
        #expect(delivered == expected)
        #expect(table.reads.withLock { $0 } == 3)
    }
}

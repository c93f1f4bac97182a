import NIOCore
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
import ChatTestSupport


@Suite("Outbound queue state machine")
struct OutboundQueueStateTests {
    func frame(_ size: Int, id: Int64 = 0) -> QueuedFrame {
        QueuedFrame(bytes: ByteBuffer(repeating: 0x61, count: size), messageID: id)
    }

    @Test func batchesEverythingQueued() {
        var queue = OutboundQueueState(limit: 100)
        #expect(queue.next() == .wait)
        #expect(queue.enqueue(frame(10, id: 1)) == .queued)
        #expect(queue.enqueue(frame(10, id: 2)) == .queued)
        #expect(queue.next() == .write([frame(10, id: 1), frame(10, id: 2)]))
        #expect(queue.bytes == 0)
        #expect(queue.next() == .wait)
    }

    @Test func overflowDropsBacklogAndClosesAsSlowConsumer() {
        var queue = OutboundQueueState(limit: 100)
        #expect(queue.enqueue(frame(60)) == .queued)
        #expect(queue.enqueue(frame(40)) == .queued, "exactly at the bound is still fine")
        #expect(queue.enqueue(frame(1)) == .overflowed)
        #expect(queue.bytes == 0)
        #expect(queue.next() == .close(.slowConsumer))
        #expect(queue.enqueue(frame(1)) == .dropped)
        #expect(queue.next() == .finished)
    }

    @Test func closeSendsQueuedFramesFirst() {
        var queue = OutboundQueueState(limit: 100)
        _ = queue.enqueue(frame(5))
        queue.close(.goingAway)
        #expect(queue.enqueue(frame(5)) == .dropped)
        #expect(queue.next() == .write([frame(5)]))
        #expect(queue.next() == .close(.goingAway))
        #expect(queue.next() == .finished)
    }

    @Test func firstCloseWins() {
        var queue = OutboundQueueState(limit: 100)
        queue.close(.binaryRefused)
        queue.close(.goingAway)
        #expect(queue.next() == .close(.binaryRefused))
    }

    @Test func finishStopsAtOnce() {
        var queue = OutboundQueueState(limit: 100)
        _ = queue.enqueue(frame(5))
        queue.finish()
        #expect(queue.next() == .finished)
    }
}

@Suite("Outbound queue with an attached writer")
struct OutboundQueueTests {
    @Test func writerWakesForFramesAndClose() async {
        let queue = OutboundQueue(limit: 1000)
        let writer = TestDrain(queue: queue)
        #expect(queue.attach(writer) == nil, "nothing queued yet: nobody to wake")
        let (_, wake) = queue.enqueue(QueuedFrame(bytes: ByteBuffer(string: "x")))
        #expect(wake === writer)
        writer.eventLoop.execute { wake?.drain() }
        #expect(await writer.next() == .write([QueuedFrame(bytes: ByteBuffer(string: "x"))]))
        let closing = queue.close(.goingAway)
        writer.eventLoop.execute { closing?.drain() }
        #expect(await writer.next() == .close(.goingAway))
    }
}

@Suite("Outbound queue pushed to a writer")
struct OutboundQueuePushTests {
    func frame(_ size: Int) -> QueuedFrame {
        QueuedFrame(bytes: ByteBuffer(repeating: 0x61, count: size))
    }

    @Test func writerIsScheduledOnceUntilItTakes() {
        var queue = OutboundQueueState(limit: 100)
        _ = queue.enqueue(frame(10))
        let drain1 = queue.needsDrain()
        #expect(!drain1, "nobody attached: a pulling writer's queue")
        queue.attachPushWriter()
        let drain2 = queue.needsDrain()
        #expect(drain2, "what queued before the writer came is its first batch")
        _ = queue.enqueue(frame(10))
        let drain3 = queue.needsDrain()
        #expect(!drain3, "already scheduled")
        #expect(queue.takeForWriting() == .write([frame(10), frame(10)]))
        #expect(queue.takeForWriting() == .wait)
        let drain4 = queue.needsDrain()
        #expect(!drain4, "nothing queued")
        _ = queue.enqueue(frame(10))
        let drain5 = queue.needsDrain()
        #expect(drain5)
    }

    @Test func bytesInTheSocketCountUntilWritten() {
        var queue = OutboundQueueState(limit: 100)
        queue.attachPushWriter()
        _ = queue.enqueue(frame(60))
        _ = queue.takeForWriting()
        #expect(queue.inFlight == 60)
        #expect(queue.enqueue(frame(40)) == .queued)
        #expect(queue.enqueue(frame(1)) == .overflowed, "60 unwritten + 40 queued is the bound")
        var other = OutboundQueueState(limit: 100)
        other.attachPushWriter()
        _ = other.enqueue(frame(60))
        _ = other.takeForWriting()
        other.written(60)
        #expect(other.enqueue(frame(100)) == .queued, "written bytes no longer count")
    }

    /// A message committed while the welcome was read arrives both in the welcome's counts and
    /// live: the live copy is dropped, before and after the writer came; notices (id 0) and
    /// newer messages are kept.
    @Test func liveCopiesTheWelcomeCountedAreDropped() {
        func message(_ id: Int64) -> QueuedFrame {
            QueuedFrame(bytes: ByteBuffer(string: "m\(id)"), messageID: id)
        }
        var queue = OutboundQueueState(limit: 100)
        _ = queue.enqueue(message(7))
        _ = queue.enqueue(frame(3))
        _ = queue.enqueue(message(8))
        queue.attachPushWriter(skippingMessagesUpTo: 8)
        #expect(queue.bytes == 3, "the dropped copies no longer count against the bound")
        #expect(queue.enqueue(message(8)) == .queued)
        _ = queue.enqueue(message(9))
        #expect(queue.takeForWriting() == .write([frame(3), message(9)]))
    }

    @Test func closeAndEndScheduleTheWriter() {
        var queue = OutboundQueueState(limit: 100)
        queue.attachPushWriter()
        queue.close(.goingAway)
        let drain6 = queue.needsDrain()
        #expect(drain6)
        #expect(queue.takeForWriting() == .close(.goingAway))
        #expect(queue.takeForWriting() == .finished)
    }
}

import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
@testable import ChatCore

/// The full-disk state: which failures count, how often the log speaks, and how it ends.
@Suite("Storage health")
struct StorageHealthTests {
    /// The log lines a StorageHealth wrote, in order.
    final class Lines: Sendable {
        let messages = Mutex<[String]>([])
    }

    struct Recorder: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lines.messages.withLock { $0.append(event.message.description) }
        }
    }

    private func health(interval: Duration, recoveryMargin: Int64 = .max) -> (StorageHealth, Lines) {
        let lines = Lines()
        let logger = Logger(label: "test") { _ in Recorder(lines: lines) }
        return (StorageHealth(dataDirectory: NSTemporaryDirectory(), logInterval: interval, recoveryMargin: recoveryMargin, logger: logger), lines)
    }

    @Test func onlyALackOfSpaceCounts() {
        let (health, lines) = health(interval: .seconds(60))
        #expect(!health.refused(POSIXError(.EACCES), writing: "a file"))
        #expect(health.status() == .ok)
        #expect(health.refused(IOError(errnoCode: ENOSPC, reason: "write"), writing: "a file"))
        #expect(health.refused(POSIXError(.EDQUOT), writing: "a file"), "a disk quota is a full disk too")
        guard case .full = health.status() else { Issue.record("not full after ENOSPC"); return }
        #expect(lines.messages.withLock { $0 } == ["storage full: writes are refused until space is freed"])
    }

    @Test func theLogSpeaksOncePerIntervalWithTheCount() async throws {
        let (health, lines) = health(interval: .milliseconds(200))
        for _ in 0..<5 { _ = health.refused(POSIXError(.ENOSPC), writing: "a message") }
        #expect(lines.messages.withLock { $0.count } == 1, "five refusals, one line")
        try await Task.sleep(for: .milliseconds(250))
        _ = health.refused(POSIXError(.ENOSPC), writing: "a message")
        #expect(lines.messages.withLock { $0 } == ["storage full: writes are refused until space is freed", "storage still full"])
    }

    @Test func aWriteThatSucceedsEndsIt() {
        let (health, lines) = health(interval: .seconds(60))
        health.stored()
        #expect(lines.messages.withLock { $0.isEmpty }, "nothing to end")
        _ = health.refused(POSIXError(.ENOSPC), writing: "a file")
        health.stored()
        #expect(health.status() == .ok)
        #expect(lines.messages.withLock { $0.last } == "storage writable again")
    }

    @Test func freeSpaceEndsItBeforeAnyWrite() {
        let (health, _) = health(interval: .seconds(60), recoveryMargin: 0)
        _ = health.refused(POSIXError(.ENOSPC), writing: "a file")
        #expect(health.status() == .ok, "the temporary directory's disk has room")
    }
}

import Foundation
import Logging
import Shared
import Synchronization

/// Whether chatd can store what it is given: every write path (messages, uploads, markers)
/// reports its failures here, and `/healthz` reads the verdict.
///
/// A full disk refuses every write at once, often thousands a second; the log says so when it
/// starts, then at most once per ``logInterval`` with the number refused meanwhile, and once
/// when it ends. chatd recovers by itself: the next write that succeeds ends the state, and
/// so does free space on the data directory's disk (probed only while full), so `/healthz`
/// turns green as soon as the operator makes room, before anyone writes again.
package final class StorageHealth: Sendable {
    package enum Status: Equatable, Sendable {
        case ok
        /// Since when writes are refused, and where the space is missing.
        case full(sinceMillis: Int64, place: String)
    }

    private struct State {
        var fullSinceMillis: Int64?
        /// Whether the data directory's disk is what filled up (not PostgreSQL's), which free
        /// space on it can then end.
        var local = true
        var lastLog: ContinuousClock.Instant?
        var refusedSinceLog = 0
    }

    package let dataDirectory: String
    package let logInterval: Duration
    /// Free bytes on the data directory's disk that end the full state without a write.
    package let recoveryMargin: Int64
    private let state = Mutex(State())
    /// Read on every successful write; the lock is taken only while full.
    private let full = Atomic<Bool>(false)
    private let logger: Logger

    package init(dataDirectory: String, logInterval: Duration = .seconds(60), recoveryMargin: Int64 = 1 << 20, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.logInterval = logInterval
        self.recoveryMargin = recoveryMargin
        self.logger = logger
    }

    /// Records a failed write. Returns whether it failed for lack of space, which the caller
    /// answers with `storage_full` (HTTP 507, FTP 452) instead of `internal`.
    package func refused(_ error: any Error, writing what: String) -> Bool {
        guard OutOfSpace.isCause(of: error) else { return false }
        let local = !OutOfSpace.isOnDatabaseServer(error)
        let now = ContinuousClock.now
        enum Note { case started, still(Int), none }
        let note = state.withLock { s -> Note in
            s.refusedSinceLog += 1
            s.local = local
            guard s.fullSinceMillis != nil else {
                s.fullSinceMillis = Timestamp.nowMillis()
                s.lastLog = now
                s.refusedSinceLog = 0
                return .started
            }
            guard let last = s.lastLog, now - last >= logInterval else { return .none }
            defer { s.lastLog = now; s.refusedSinceLog = 0 }
            return .still(s.refusedSinceLog)
        }
        full.store(true, ordering: .releasing)
        switch note {
        case .started:
            logger.error("storage full: writes are refused until space is freed",
                         metadata: ["place": "\(place(local: local))", "refused": "\(what)", "error": "\(error)"])
        case .still(let count):
            logger.error("storage still full", metadata: ["place": "\(place(local: local))", "refused": "\(count)"])
        case .none:
            break
        }
        return true
    }

    /// Records a successful write: it ends a full state.
    package func stored() {
        guard full.load(ordering: .acquiring) else { return }
        recover(reason: "a write succeeded")
    }

    /// The state for `/healthz`. While full, looks whether the data directory's disk has room again.
    package func status() -> Status {
        guard full.load(ordering: .acquiring) else { return .ok }
        let (since, local) = state.withLock { ($0.fullSinceMillis, $0.local) }
        if local, let free = Self.freeBytes(dataDirectory), free >= recoveryMargin {
            recover(reason: "\(ByteSize.text(free)) free")
            return .ok
        }
        guard let since else { return .ok }
        return .full(sinceMillis: since, place: place(local: local))
    }

    private func recover(reason: String) {
        let ended = state.withLock { s -> Int64? in
            defer { s.fullSinceMillis = nil; s.lastLog = nil; s.refusedSinceLog = 0 }
            return s.fullSinceMillis
        }
        full.store(false, ordering: .releasing)
        if let ended {
            logger.notice("storage writable again", metadata: ["after": "\((Timestamp.nowMillis() - ended) / 1000) s", "reason": "\(reason)"])
        }
    }

    private func place(local: Bool) -> String {
        local ? "the disk of \(dataDirectory)" : "the PostgreSQL server's disk"
    }

    private static func freeBytes(_ path: String) -> Int64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}

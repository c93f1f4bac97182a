import CoreMetrics
import Metrics


/// What chatd counts for an operator (`--metrics`): sessions, messages, deliveries, refusals,
/// bytes, FTP activity and database write latency.
///
/// The metrics are swift-metrics objects made from an explicit factory rather than the global
/// `MetricsSystem`, so that several servers in one test process keep separate numbers and a
/// server without `--metrics` counts into nothing. Every update is an atomic add; the fan-out
/// path adds once per batch, not once per recipient.
package final class ChatMetrics: Sendable {
    /// Which door a file's bytes went through.
    package enum Door: String, Sendable { case http, ftp }

    package let sessions: Gauge
    package let accountsOnline: Gauge
    package let broadcastMessagesIn: Counter
    package let directMessagesIn: Counter
    package let framesOut: Counter
    package let deliveries: Counter
    package let slowConsumerCloses: Counter
    package let rateLimitedFrames: Counter
    package let ftpSessions: Meter
    package let databaseWrites: Timer
    private let uploadBytes: [Door: Counter]
    private let downloadBytes: [Door: Counter]
    private let ftpTransfers: [FTPTransferKind: Counter]

    /// The FTP data transfers counted by `ftpTransfer(_:)`: uploads (`STOR`, `APPE`), downloads,
    /// and listings (`LIST`, `NLST`, `MLSD`).
    package enum FTPTransferKind: String, Sendable, CaseIterable { case stor, retr, list }

    package init(factory: any MetricsFactory) {
        sessions = Gauge(label: "chatd_sessions", factory: factory)
        accountsOnline = Gauge(label: "chatd_accounts_online", factory: factory)
        broadcastMessagesIn = Counter(label: "chatd_messages_in_total", dimensions: [("chat", "broadcast")], factory: factory)
        directMessagesIn = Counter(label: "chatd_messages_in_total", dimensions: [("chat", "direct")], factory: factory)
        framesOut = Counter(label: "chatd_frames_out_total", factory: factory)
        deliveries = Counter(label: "chatd_deliveries_total", factory: factory)
        slowConsumerCloses = Counter(label: "chatd_slow_consumer_closes_total", factory: factory)
        rateLimitedFrames = Counter(label: "chatd_rate_limited_total", factory: factory)
        ftpSessions = Meter(label: "chatd_ftp_sessions", factory: factory)
        databaseWrites = Timer(label: "chatd_database_write_seconds", factory: factory)
        var up: [Door: Counter] = [:], down: [Door: Counter] = [:]
        for door in [Door.http, .ftp] {
            up[door] = Counter(label: "chatd_upload_bytes_total", dimensions: [("door", door.rawValue)], factory: factory)
            down[door] = Counter(label: "chatd_download_bytes_total", dimensions: [("door", door.rawValue)], factory: factory)
        }
        uploadBytes = up
        downloadBytes = down
        ftpTransfers = Dictionary(uniqueKeysWithValues: FTPTransferKind.allCases.map {
            ($0, Counter(label: "chatd_ftp_transfers_total", dimensions: [("command", $0.rawValue)], factory: factory))
        })
    }

    /// Counts into nothing: for servers without `--metrics` and for tests.
    package static let disabled = ChatMetrics(factory: NOOPMetricsHandler.instance)

    package func uploaded(_ bytes: Int64, via door: Door) {
        if bytes > 0 { uploadBytes[door]?.increment(by: bytes) }
    }

    package func downloaded(_ bytes: Int64, via door: Door) {
        if bytes > 0 { downloadBytes[door]?.increment(by: bytes) }
    }

    /// One FTP data transfer that finished (226).
    package func ftpTransfer(_ kind: FTPTransferKind) {
        ftpTransfers[kind]?.increment()
    }

    /// Times a database write into ``databaseWrites``.
    package func timeDatabaseWrite<T>(_ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { databaseWrites.record(duration: ContinuousClock.now - start) }
        return try await body()
    }
}

import ChatCore
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// `--metrics HOST:PORT`: the Prometheus text exposition of chatd's registry at `GET /metrics`.
///
/// A listener of its own, so that the numbers can stay on a private interface (or loopback for a
/// local agent) while the chat listens on the public one; nothing else is served there.
package struct MetricsEndpoint {
    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory

    /// Database writes take milliseconds (one fsync), so the buckets start well below the
    /// factory's default 5 ms.
    package static let databaseWriteBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .seconds(1), .seconds(5),
    ]

    package init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["chatd_database_write_seconds"] = Self.databaseWriteBuckets
        // Hummingbird's request metrics are named like `hb.requests` with `http.route` labels;
        // Prometheus names allow only letters, digits, `_` and `:`.
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.sanitize(name), labels.map { (Self.sanitize($0.0), $0.1) })
        }
        self.factory = factory
    }

    package static func sanitize(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ":": scalar
            default: "_"
            }
        }))
    }

    private static let globalBootstrapDone = Mutex(false)

    /// Makes this registry the process's `MetricsSystem`, which Hummingbird's `MetricsMiddleware`
    /// (HTTP requests by route and status) records into. The global can be set once per process:
    /// a second server in the same process (tests) keeps its own chat metrics but its HTTP
    /// request counts go to the first one's registry.
    package func bootstrapGlobalSystem() {
        let first = Self.globalBootstrapDone.withLock { done in
            defer { done = true }
            return !done
        }
        if first { MetricsSystem.bootstrap(factory) }
    }

    /// The listener, as a service of the server's group.
    package func application(host: String, port: Int, onRunning: @escaping @Sendable (Int) -> Void, logger: Logger) -> some Service {
        let router = Router()
        let registry = self.registry
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}

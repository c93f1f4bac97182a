import ChatCore
import ChatFTP
import ChatTLS
import Logging
import Shared

/// Everything `chatd serve` runs with, after flags, environment and defaults were resolved.
struct ServerConfig: Sendable {
    var dataDirectory = "./data"
    /// `--database`: the embedded SQLite file, or a PostgreSQL server shared by several nodes.
    var database = DatabaseLocation.sqlite
    /// Seconds a cluster node may stay silent before the others count its sessions as gone;
    /// it sends a heartbeat every third of this. Unused with SQLite.
    var nodeTimeout = 15
    var httpHost = "127.0.0.1"
    var httpPort = 8010
    /// Seconds a client has to send a whole request head, from the connection's start or the end
    /// of the previous response; then it is answered 408 (or, if it sent nothing, closed).
    var headerTimeout = 10
    /// Seconds an HTTP connection may make no progress: a pause within a request body, or a
    /// response (a download) the client does not read.
    var httpIdleTimeout = 300
    var registration = Accounts.Registration.open
    var maxFileSize: Int64 = 1 << 30
    /// Bytes one user may store in the file area; `nil`: no limit.
    var quota: Int64?
    var messageChars = ProtocolLimits.defaultMessageChars
    var rate = RateLimiter.Rate.default
    var logLevel = Logger.Level.info
    /// Seconds between WebSocket pings; a session that misses a pong is closed.
    var pingInterval = 30
    var outboundQueueBytes = ProtocolLimits.defaultOutboundQueueBytes
    var nameLockout = LoginThrottle.Policy.perName
    var addressLockout = LoginThrottle.Policy.perAddress
    var bcryptCost = 10
    var tokenLifetimeDays = 30
    /// The FTP listener; `nil` when `--ftp off`.
    var ftp: FTPServer.Configuration? = FTPServer.Configuration()
    /// `--tls-cert`/`--tls-key`: HTTPS, WSS and FTPS; `nil`: plain HTTP and FTP.
    var tls: TLSIdentity.Files?
    /// `--metrics HOST:PORT`: where Prometheus scrapes `/metrics`; `nil`: no metrics listener.
    var metrics: (host: String, port: Int)?
    /// Whether to log to stderr too (the file log is always written).
    var logToStderr = true
}

import ArgumentParser
import ChatCore
import ChatFTP
import Shared

/// Every setting of `chatd serve`, by the name it has everywhere: the flag is `--NAME`, the
/// environment variable `CHATD_NAME` (upper case, `-` as `_`), the config file key `NAME`.
///
/// One list, so that the three sources cannot drift apart and `chatd check-config` can show
/// every setting with its value and where the value came from.
enum Setting: String, CaseIterable, Sendable {
    case dataDir = "data-dir"
    case database
    case nodeTimeout = "node-timeout"
    case http
    case headerTimeout = "header-timeout"
    case httpIdleTimeout = "http-idle-timeout"
    case registration
    case maxFileSize = "max-file-size"
    case quota
    case messageChars = "message-chars"
    case rate
    case logLevel = "log-level"
    case pingInterval = "ping-interval"
    case sessionQueue = "session-queue"
    case lockoutName = "lockout-name"
    case lockoutAddress = "lockout-address"
    case bcryptCost = "bcrypt-cost"
    case tokenDays = "token-days"
    case tlsCert = "tls-cert"
    case tlsKey = "tls-key"
    case metrics
    case ftp
    case ftpAnonymous = "ftp-anonymous"
    case ftpRequireTLS = "ftp-require-tls"
    case ftpPassivePorts = "ftp-passive-ports"
    case ftpIdleTimeout = "ftp-idle-timeout"
    case ftpMaxPerAddress = "ftp-max-per-address"

    var flag: String { "--" + rawValue }

    var environmentVariable: String {
        "CHATD_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Whether a relative path in a config file means relative to the file's directory.
    var isPath: Bool {
        switch self {
        case .dataDir, .tlsCert, .tlsKey: true
        default: false
        }
    }

    /// The value used when no source sets it, as `check-config` and `--help` print it: read off
    /// a default ``ServerConfig``, so the defaults are written once, there.
    var defaultText: String {
        let config = ServerConfig()
        let ftp = config.ftp ?? FTPServer.Configuration()
        return switch self {
        case .dataDir: config.dataDirectory
        case .database: "sqlite (DATA_DIR/chatd.sqlite)"
        case .nodeTimeout: "\(config.nodeTimeout)"
        case .http: "\(config.httpHost):\(config.httpPort)"
        case .headerTimeout: "\(config.headerTimeout)"
        case .httpIdleTimeout: "\(config.httpIdleTimeout)"
        case .registration: config.registration.rawValue
        case .maxFileSize: ByteSize.text(config.maxFileSize)
        case .quota: config.quota.map(ByteSize.text) ?? "0 (no limit)"
        case .messageChars: "\(config.messageChars)"
        case .rate: config.rate.isUnlimited ? "0 (no limit)" : "\(Self.number(config.rate.perSecond))/\(Self.number(config.rate.burst))"
        case .logLevel: config.logLevel.rawValue
        case .pingInterval: "\(config.pingInterval)"
        case .sessionQueue: ByteSize.text(Int64(config.outboundQueueBytes))
        case .lockoutName: Self.text(config.nameLockout)
        case .lockoutAddress: Self.text(config.addressLockout)
        case .bcryptCost: "\(config.bcryptCost)"
        case .tokenDays: "\(config.tokenLifetimeDays)"
        case .tlsCert, .tlsKey: "none (plain HTTP and FTP)"
        case .metrics: config.metrics.map { "\($0.host):\($0.port)" } ?? "off"
        case .ftp: config.ftp.map { "\($0.host):\($0.port)" } ?? "off"
        case .ftpAnonymous: "\(ftp.session.anonymousAllowed)"
        case .ftpRequireTLS: "\(ftp.session.requireTLS)"
        case .ftpPassivePorts: ftp.passivePorts.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "any free port"
        case .ftpIdleTimeout: "\(ftp.idleTimeout.components.seconds)"
        case .ftpMaxPerAddress: "\(ftp.maxConnectionsPerAddress)"
        }
    }

    /// The `--help` line: what it does, its environment variable, and its default.
    func help(_ description: String, then note: String? = nil) -> ArgumentHelp {
        let variable = isSwitch ? "\(environmentVariable)=1" : environmentVariable
        return ArgumentHelp("\(description) (\(variable)).\(note.map { " \($0)." } ?? "") Default: \(defaultText)")
    }

    /// Set by a flag without a value (`--ftp-anonymous`); `1` or `0` elsewhere.
    var isSwitch: Bool {
        self == .ftpAnonymous || self == .ftpRequireTLS
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))" : "\(value)"
    }

    private static func text(_ policy: LoginThrottle.Policy) -> String {
        policy.failures == 0 ? "0 (off)" : "\(policy.failures)/\(number(policy.window))/\(number(policy.lockout))"
    }
}

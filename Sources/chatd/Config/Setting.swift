import ChatCore

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

    /// The value used when no source sets it, as `check-config` prints it.
    var defaultText: String {
        switch self {
        case .dataDir: "./data"
        case .database: "sqlite (DATA_DIR/chatd.sqlite)"
        case .nodeTimeout: "15"
        case .http: "127.0.0.1:8010"
        case .headerTimeout: "10"
        case .httpIdleTimeout: "300"
        case .registration: "open"
        case .maxFileSize: "1G"
        case .quota: "0 (no limit)"
        case .messageChars: "4000"
        case .rate: "20/40"
        case .logLevel: "info"
        case .pingInterval: "30"
        case .sessionQueue: "1M"
        case .lockoutName: "5/300/60"
        case .lockoutAddress: "50/60/60"
        case .bcryptCost: "10"
        case .tokenDays: "30"
        case .tlsCert, .tlsKey: "none (plain HTTP and FTP)"
        case .metrics: "off"
        case .ftp: "127.0.0.1:2121"
        case .ftpAnonymous, .ftpRequireTLS: "false"
        case .ftpPassivePorts: "any free port"
        case .ftpIdleTimeout: "300"
        case .ftpMaxPerAddress: "16"
        }
    }
}

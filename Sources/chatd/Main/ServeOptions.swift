import ArgumentParser
import ChatCore
import Foundation

/// The settings of `chatd serve`, as flags; shared with `chatd check-config`, which resolves
/// them the same way without starting anything. Each has a ``Setting`` of the same name, which
/// also names its environment variable and config-file key.
struct ServeOptions: ParsableArguments {
    @Option(help: "TOML file of settings named like these options (CHATD_CONFIG). Flags and the environment beat it")
    var config: String?

    @Option(help: "Directory for the database and logs (CHATD_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Option(help: "sqlite, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require] to share one store between cluster nodes (CHATD_DATABASE). Default: sqlite")
    var database: String?

    @Option(help: "Seconds a cluster node may miss heartbeats before the others mark its users gone, 3-3600 (CHATD_NODE_TIMEOUT). Default: 15")
    var nodeTimeout: String?

    @Option(help: "HOST:PORT of the HTTP and WebSocket listener (CHATD_HTTP). Default: 127.0.0.1:8010")
    var http: String?

    @Option(help: "Seconds a client has to send a whole HTTP request head, from connecting or from the previous response, 1-3600; then 408 (CHATD_HEADER_TIMEOUT). Default: 10")
    var headerTimeout: String?

    @Option(help: "Seconds an HTTP connection may make no progress (a pause within a request body, a download the client does not read), 1-86400; then it is closed (CHATD_HTTP_IDLE_TIMEOUT). Default: 300")
    var httpIdleTimeout: String?

    @Option(help: "open: an unknown name logging in creates the account; closed: operator only (CHATD_REGISTRATION). Default: open")
    var registration: String?

    @Option(help: "Largest file in bytes, K/M/G suffixes allowed (CHATD_MAX_FILE_SIZE). Default: 1G")
    var maxFileSize: String?

    @Option(help: "Bytes each user may store in the file area, K/M/G suffixes allowed; 0 means no limit (CHATD_QUOTA). Default: no limit")
    var quota: String?

    @Option(help: "Longest message in characters (CHATD_MESSAGE_CHARS). Default: 4000")
    var messageChars: String?

    @Option(help: "Messages per second per user as N or N/BURST; 0 turns it off (CHATD_RATE). Default: 20/40")
    var rate: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (CHATD_LOG_LEVEL). Default: info")
    var logLevel: String?

    @Option(help: "Seconds between WebSocket pings (CHATD_PING_INTERVAL). Default: 30")
    var pingInterval: String?

    @Option(help: "Bytes queued for one session before it is closed as a slow consumer (CHATD_SESSION_QUEUE). Default: 1M")
    var sessionQueue: String?

    @Option(help: "Login failures per name that lock it, as FAILURES/WINDOW_S/LOCK_S; 0 disables (CHATD_LOCKOUT_NAME). Default: 5/300/60")
    var lockoutName: String?

    @Option(help: "Login failures per client address that lock it, as FAILURES/WINDOW_S/LOCK_S; 0 disables (CHATD_LOCKOUT_ADDRESS). Default: 50/60/60")
    var lockoutAddress: String?

    @Option(help: "bcrypt cost for new password hashes, 10-16 (CHATD_BCRYPT_COST). Default: 10")
    var bcryptCost: String?

    @Option(help: "Days a login token stays valid after its last use (CHATD_TOKEN_DAYS). Default: 30")
    var tokenDays: String?

    @Option(help: "PEM certificate chain, leaf first: serve HTTPS, WSS and FTPS (CHATD_TLS_CERT). Needs --tls-key; SIGHUP reloads both")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert (CHATD_TLS_KEY)")
    var tlsKey: String?

    @Option(help: "HOST:PORT where Prometheus scrapes /metrics, or off (CHATD_METRICS). Default: off")
    var metrics: String?

    @Option(help: "HOST:PORT of the FTP listener, or off (CHATD_FTP). Default: 127.0.0.1:2121")
    var ftp: String?

    @Flag(help: "Let anonymous/ftp log in to FTP with any password, read-only (CHATD_FTP_ANONYMOUS=1). Default: off")
    var ftpAnonymous = false

    @Flag(help: "Refuse FTP USER before AUTH TLS, and data connections without PROT P (CHATD_FTP_REQUIRE_TLS=1). Needs --tls-cert")
    var ftpRequireTls = false

    @Option(help: "LOW-HIGH ports for passive FTP data connections (CHATD_FTP_PASSIVE_PORTS). Default: any free port")
    var ftpPassivePorts: String?

    @Option(help: "Seconds an FTP control or data connection may stay idle (CHATD_FTP_IDLE_TIMEOUT). Default: 300")
    var ftpIdleTimeout: String?

    @Option(help: "FTP connections at once from one address (CHATD_FTP_MAX_PER_ADDRESS). Default: 16")
    var ftpMaxPerAddress: String?

    /// The flags given, by setting; a switch not given is absent, so the environment or file decide.
    var flags: [Setting: String] {
        let given: [(Setting, String?)] = [
            (.dataDir, dataDir), (.database, database), (.nodeTimeout, nodeTimeout), (.http, http), (.headerTimeout, headerTimeout), (.httpIdleTimeout, httpIdleTimeout), (.registration, registration), (.maxFileSize, maxFileSize),
            (.quota, quota), (.messageChars, messageChars), (.rate, rate), (.logLevel, logLevel),
            (.pingInterval, pingInterval), (.sessionQueue, sessionQueue), (.lockoutName, lockoutName),
            (.lockoutAddress, lockoutAddress), (.bcryptCost, bcryptCost), (.tokenDays, tokenDays),
            (.tlsCert, tlsCert), (.tlsKey, tlsKey), (.metrics, metrics), (.ftp, ftp),
            (.ftpAnonymous, ftpAnonymous ? "true" : nil), (.ftpRequireTLS, ftpRequireTls ? "true" : nil),
            (.ftpPassivePorts, ftpPassivePorts), (.ftpIdleTimeout, ftpIdleTimeout), (.ftpMaxPerAddress, ftpMaxPerAddress),
        ]
        return Dictionary(uniqueKeysWithValues: given.compactMap { setting, text in text.map { (setting, $0) } })
    }

    /// Flags, environment and the config file (`--config`, else `CHATD_CONFIG`), read now.
    func sources(environment: [String: String]) throws -> SettingSources {
        let path = config ?? environment["CHATD_CONFIG"]
        return SettingSources(flags: flags, environment: environment, file: try path.map { try ConfigFile.load(path: $0) })
    }

    /// The configuration these options, the environment and the config file give.
    func resolve(environment: [String: String]) throws -> ServerConfig {
        try ServerConfig(resolving: sources(environment: environment))
    }
}

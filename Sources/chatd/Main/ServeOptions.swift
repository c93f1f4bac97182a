import ArgumentParser
import ChatCore
import Foundation

/// The settings of `chatd serve`, as flags; shared with `chatd check-config`, which resolves
/// them the same way without starting anything. Each has a ``Setting`` of the same name, which
/// also names its environment variable and config-file key.
struct ServeOptions: ParsableArguments {
    @Option(help: "TOML file of settings named like these options (CHATD_CONFIG). Flags and the environment beat it")
    var config: String?

    @Option(help: Setting.dataDir.help("Directory for the database and logs"))
    var dataDir: String?

    @Option(help: Setting.database.help("sqlite, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require] to share one store between cluster nodes"))
    var database: String?

    @Option(help: Setting.nodeTimeout.help("Seconds a cluster node may miss heartbeats before the others mark its users gone, 3-3600"))
    var nodeTimeout: String?

    @Option(help: Setting.http.help("HOST:PORT of the HTTP and WebSocket listener"))
    var http: String?

    @Option(help: Setting.headerTimeout.help("Seconds a client has to send a whole HTTP request head, from connecting or from the previous response, 1-3600; then 408"))
    var headerTimeout: String?

    @Option(help: Setting.httpIdleTimeout.help("Seconds an HTTP connection may make no progress (a pause within a request body, a download the client does not read), 1-86400; then it is closed"))
    var httpIdleTimeout: String?

    @Option(help: Setting.registration.help("open: an unknown name logging in creates the account; closed: operator only"))
    var registration: String?

    @Option(help: Setting.maxFileSize.help("Largest file in bytes, K/M/G suffixes allowed"))
    var maxFileSize: String?

    @Option(help: Setting.quota.help("Bytes each user may store in the file area, K/M/G suffixes allowed; 0 means no limit"))
    var quota: String?

    @Option(help: Setting.messageChars.help("Longest message in characters"))
    var messageChars: String?

    @Option(help: Setting.rate.help("Messages per second per user as N or N/BURST; 0 turns it off"))
    var rate: String?

    @Option(help: Setting.logLevel.help("trace, debug, info, notice, warning, error or critical"))
    var logLevel: String?

    @Option(help: Setting.pingInterval.help("Seconds between WebSocket pings"))
    var pingInterval: String?

    @Option(help: Setting.sessionQueue.help("Bytes queued for one session before it is closed as a slow consumer"))
    var sessionQueue: String?

    @Option(help: Setting.lockoutName.help("Login failures per name that lock it, as FAILURES/WINDOW_S/LOCK_S; 0 disables"))
    var lockoutName: String?

    @Option(help: Setting.lockoutAddress.help("Login failures per client address that lock it, as FAILURES/WINDOW_S/LOCK_S; 0 disables"))
    var lockoutAddress: String?

    @Option(help: Setting.bcryptCost.help("bcrypt cost for new password hashes, 10-16"))
    var bcryptCost: String?

    @Option(help: Setting.tokenDays.help("Days a login token stays valid after its last use"))
    var tokenDays: String?

    @Option(help: Setting.tlsCert.help("PEM certificate chain, leaf first: serve HTTPS, WSS and FTPS", then: "Needs --tls-key; SIGHUP reloads both"))
    var tlsCert: String?

    @Option(help: Setting.tlsKey.help("PEM private key of --tls-cert"))
    var tlsKey: String?

    @Option(help: Setting.metrics.help("HOST:PORT where Prometheus scrapes /metrics, or off"))
    var metrics: String?

    @Option(help: Setting.ftp.help("HOST:PORT of the FTP listener, or off"))
    var ftp: String?

    @Flag(help: Setting.ftpAnonymous.help("Let anonymous/ftp log in to FTP with any password, read-only"))
    var ftpAnonymous = false

    @Flag(help: Setting.ftpRequireTLS.help("Refuse FTP USER before AUTH TLS, and data connections without PROT P", then: "Needs --tls-cert"))
    var ftpRequireTls = false

    @Option(help: Setting.ftpPassivePorts.help("LOW-HIGH ports for passive FTP data connections"))
    var ftpPassivePorts: String?

    @Option(help: Setting.ftpIdleTimeout.help("Seconds an FTP control or data connection may stay idle"))
    var ftpIdleTimeout: String?

    @Option(help: Setting.ftpMaxPerAddress.help("FTP connections at once from one address"))
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

import ArgumentParser
import Foundation
import Logging
import Shared

/// `chatd serve`: runs the server. Every option also reads a `CHATD_*` environment variable;
/// a flag beats the environment, which beats the default.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the chat server (the default command).")

    @Option(help: "Directory for the database and logs (CHATD_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Option(help: "HOST:PORT of the HTTP and WebSocket listener (CHATD_HTTP). Default: 127.0.0.1:8010")
    var http: String?

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

    @Option(help: "HOST:PORT of the FTP listener, or off (CHATD_FTP). Default: 127.0.0.1:2121")
    var ftp: String?

    @Flag(help: "Let anonymous/ftp log in to FTP with any password, read-only (CHATD_FTP_ANONYMOUS=1). Default: off")
    var ftpAnonymous = false

    @Option(help: "LOW-HIGH ports for passive FTP data connections (CHATD_FTP_PASSIVE_PORTS). Default: any free port")
    var ftpPassivePorts: String?

    @Option(help: "Seconds an FTP control or data connection may stay idle (CHATD_FTP_IDLE_TIMEOUT). Default: 300")
    var ftpIdleTimeout: String?

    @Option(help: "FTP connections at once from one address (CHATD_FTP_MAX_PER_ADDRESS). Default: 16")
    var ftpMaxPerAddress: String?

    @Option(help: "PEM certificate chain, leaf first: serve HTTPS, WSS and FTPS (CHATD_TLS_CERT). Needs --tls-key")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert (CHATD_TLS_KEY)")
    var tlsKey: String?

    @Flag(help: "Refuse FTP USER before AUTH TLS (CHATD_FTP_REQUIRE_TLS=1). Needs --tls-cert. Default: off")
    var ftpRequireTls = false

    func run() async throws {
        let config: ServerConfig
        do {
            config = try resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("chatd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        do {
            try await ChatServer.run(config: config)
        } catch {
            FileHandle.standardError.write(Data("chatd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Merges flags, environment and defaults into a checked configuration.
    func resolve(environment: [String: String]) throws -> ServerConfig {
        var config = ServerConfig()
        func value(_ flag: String?, _ variable: String) -> (String, String)? {
            if let flag { return (flag, "--" + variable.dropFirst(6).lowercased().replacingOccurrences(of: "_", with: "-")) }
            if let env = environment[variable] { return (env, variable) }
            return nil
        }
        if let (v, _) = value(dataDir, "CHATD_DATA_DIR") { config.dataDirectory = v }
        if let (v, name) = value(http, "CHATD_HTTP") {
            (config.httpHost, config.httpPort) = try OptionParsing.hostPort(v, option: name)
        }
        if let (v, name) = value(registration, "CHATD_REGISTRATION") {
            guard let policy = Accounts.Registration(rawValue: v) else {
                throw OptionParsing.InvalidValue(description: "\(name): expected open or closed, got '\(v)'")
            }
            config.registration = policy
        }
        if let (v, name) = value(maxFileSize, "CHATD_MAX_FILE_SIZE") { config.maxFileSize = try OptionParsing.byteSize(v, option: name) }
        if let (v, name) = value(quota, "CHATD_QUOTA") {
            let bytes = try OptionParsing.byteSize(v, option: name)
            config.quota = bytes == 0 ? nil : bytes
        }
        if let (v, name) = value(messageChars, "CHATD_MESSAGE_CHARS") {
            config.messageChars = try OptionParsing.positiveInt(v, option: name, range: 1...16_000)
        }
        if let (v, name) = value(rate, "CHATD_RATE") { config.rate = try OptionParsing.rate(v, option: name) }
        if let (v, name) = value(logLevel, "CHATD_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw OptionParsing.InvalidValue(description: "\(name): expected trace, debug, info, notice, warning, error or critical, got '\(v)'")
            }
            config.logLevel = level
        }
        if let (v, name) = value(pingInterval, "CHATD_PING_INTERVAL") {
            config.pingInterval = try OptionParsing.positiveInt(v, option: name, range: 1...3600)
        }
        if let (v, name) = value(sessionQueue, "CHATD_SESSION_QUEUE") {
            let bytes = try OptionParsing.byteSize(v, option: name)
            guard bytes >= 64 * 1024, bytes <= 1 << 30 else {
                throw OptionParsing.InvalidValue(description: "\(name): must be between 64K and 1G, got '\(v)'")
            }
            config.outboundQueueBytes = Int(bytes)
        }
        if let (v, name) = value(lockoutName, "CHATD_LOCKOUT_NAME") { config.nameLockout = try OptionParsing.lockout(v, option: name) }
        if let (v, name) = value(lockoutAddress, "CHATD_LOCKOUT_ADDRESS") { config.addressLockout = try OptionParsing.lockout(v, option: name) }
        if let (v, name) = value(bcryptCost, "CHATD_BCRYPT_COST") { config.bcryptCost = try OptionParsing.positiveInt(v, option: name, range: 10...16) }
        if let (v, name) = value(tokenDays, "CHATD_TOKEN_DAYS") { config.tokenLifetimeDays = try OptionParsing.positiveInt(v, option: name, range: 1...3650) }
        if let (v, name) = value(ftp, "CHATD_FTP") {
            if v.lowercased() == "off" {
                config.ftp = nil
            } else {
                let (host, port) = try OptionParsing.hostPort(v, option: name)
                config.ftp = config.ftp ?? FTPServer.Configuration()
                config.ftp?.host = host
                config.ftp?.port = port
            }
        }
        if ftpAnonymous {
            config.ftp?.session.anonymousAllowed = true
        } else if let env = environment["CHATD_FTP_ANONYMOUS"] {
            config.ftp?.session.anonymousAllowed = try OptionParsing.boolean(env, option: "CHATD_FTP_ANONYMOUS")
        }
        if let (v, name) = value(ftpPassivePorts, "CHATD_FTP_PASSIVE_PORTS") {
            config.ftp?.passivePorts = try OptionParsing.portRange(v, option: name)
        }
        if let (v, name) = value(ftpIdleTimeout, "CHATD_FTP_IDLE_TIMEOUT") {
            config.ftp?.idleTimeout = .seconds(try OptionParsing.positiveInt(v, option: name, range: 1...86_400))
        }
        if let (v, name) = value(ftpMaxPerAddress, "CHATD_FTP_MAX_PER_ADDRESS") {
            config.ftp?.maxConnectionsPerAddress = try OptionParsing.positiveInt(v, option: name, range: 1...10_000)
        }
        if ftpRequireTls {
            config.ftp?.session.requireTLS = true
        } else if let env = environment["CHATD_FTP_REQUIRE_TLS"] {
            config.ftp?.session.requireTLS = try OptionParsing.boolean(env, option: "CHATD_FTP_REQUIRE_TLS")
        }
        let cert = value(tlsCert, "CHATD_TLS_CERT"), key = value(tlsKey, "CHATD_TLS_KEY")
        switch (cert, key) {
        case let ((certPath, _)?, (keyPath, _)?): config.tls = .init(certificateChain: certPath, privateKey: keyPath)
        case (nil, nil): break
        case (_?, nil): throw OptionParsing.InvalidValue(description: "--tls-cert needs --tls-key")
        case (nil, _?): throw OptionParsing.InvalidValue(description: "--tls-key needs --tls-cert")
        }
        if config.ftp?.session.requireTLS == true, config.tls == nil {
            throw OptionParsing.InvalidValue(description: "--ftp-require-tls needs --tls-cert and --tls-key")
        }
        return config
    }
}

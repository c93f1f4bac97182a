import ChatCore
import ChatFTP
import ChatTLS
import Logging

extension ServerConfig {
    /// Merges flags, environment, config file and defaults into a checked configuration; the
    /// first bad value throws, named as the user wrote it.
    init(resolving sources: SettingSources) throws {
        self.init()
        func value(_ setting: Setting) -> (String, String)? {
            sources.value(setting).map { ($0.text, $0.name) }
        }
        if let (v, _) = value(.dataDir) { dataDirectory = v }
        if let (v, name) = value(.database) { database = try DatabaseLocation(parsing: v, option: name) }
        if let (v, name) = value(.nodeTimeout) { nodeTimeout = try OptionParsing.positiveInt(v, option: name, range: 3...3600) }
        if let (v, name) = value(.http) { (httpHost, httpPort) = try OptionParsing.hostPort(v, option: name) }
        if let (v, name) = value(.headerTimeout) { headerTimeout = try OptionParsing.positiveInt(v, option: name, range: 1...3600) }
        if let (v, name) = value(.httpIdleTimeout) { httpIdleTimeout = try OptionParsing.positiveInt(v, option: name, range: 1...86400) }
        if let (v, name) = value(.registration) {
            guard let policy = Accounts.Registration(rawValue: v) else {
                throw OptionParsing.InvalidValue(description: "\(name): expected open or closed, got '\(v)'")
            }
            registration = policy
        }
        if let (v, name) = value(.maxFileSize) { maxFileSize = try OptionParsing.byteSize(v, option: name) }
        if let (v, name) = value(.quota) {
            let bytes = try OptionParsing.byteSize(v, option: name)
            quota = bytes == 0 ? nil : bytes
        }
        if let (v, name) = value(.messageChars) { messageChars = try OptionParsing.positiveInt(v, option: name, range: 1...16_000) }
        if let (v, name) = value(.rate) { rate = try OptionParsing.rate(v, option: name) }
        if let (v, name) = value(.logLevel) {
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw OptionParsing.InvalidValue(description: "\(name): expected trace, debug, info, notice, warning, error or critical, got '\(v)'")
            }
            logLevel = level
        }
        if let (v, name) = value(.pingInterval) { pingInterval = try OptionParsing.positiveInt(v, option: name, range: 1...3600) }
        if let (v, name) = value(.sessionQueue) {
            let bytes = try OptionParsing.byteSize(v, option: name)
            guard bytes >= 64 * 1024, bytes <= 1 << 30 else {
                throw OptionParsing.InvalidValue(description: "\(name): must be between 64K and 1G, got '\(v)'")
            }
            outboundQueueBytes = Int(bytes)
        }
        if let (v, name) = value(.lockoutName) { nameLockout = try OptionParsing.lockout(v, option: name) }
        if let (v, name) = value(.lockoutAddress) { addressLockout = try OptionParsing.lockout(v, option: name) }
        if let (v, name) = value(.bcryptCost) { bcryptCost = try OptionParsing.positiveInt(v, option: name, range: 10...16) }
        if let (v, name) = value(.tokenDays) { tokenLifetimeDays = try OptionParsing.positiveInt(v, option: name, range: 1...3650) }
        if let (v, name) = value(.metrics) {
            if v.lowercased() != "off" { metrics = try OptionParsing.hostPort(v, option: name) }
        }
        switch (value(.tlsCert), value(.tlsKey)) {
        case let ((cert, _)?, (key, _)?): tls = .init(certificateChain: cert, privateKey: key)
        case (nil, nil): break
        case let ((_, name)?, nil): throw OptionParsing.InvalidValue(description: "\(name) needs tls-key as well")
        case let (nil, (_, name)?): throw OptionParsing.InvalidValue(description: "\(name) needs tls-cert as well")
        }
        if let (v, name) = value(.ftp) {
            if v.lowercased() == "off" {
                ftp = nil
            } else {
                let (host, port) = try OptionParsing.hostPort(v, option: name)
                ftp = ftp ?? FTPServer.Configuration()
                ftp?.host = host
                ftp?.port = port
            }
        }
        if let (v, name) = value(.ftpAnonymous) { ftp?.session.anonymousAllowed = try OptionParsing.boolean(v, option: name) }
        if let (v, name) = value(.ftpRequireTLS) {
            let required = try OptionParsing.boolean(v, option: name)
            if required, tls == nil {
                throw OptionParsing.InvalidValue(description: "\(name) needs tls-cert and tls-key")
            }
            ftp?.session.requireTLS = required
        }
        if let (v, name) = value(.ftpPassivePorts) { ftp?.passivePorts = try OptionParsing.portRange(v, option: name) }
        if let (v, name) = value(.ftpIdleTimeout) {
            ftp?.idleTimeout = .seconds(try OptionParsing.positiveInt(v, option: name, range: 1...86_400))
        }
        if let (v, name) = value(.ftpMaxPerAddress) {
            ftp?.maxConnectionsPerAddress = try OptionParsing.positiveInt(v, option: name, range: 1...10_000)
        }
    }
}

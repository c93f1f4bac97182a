import Foundation
import Testing
@testable import chatd
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatStorePostgres
@testable import ChatTLS
@testable import ChatHTTP
@testable import ChatFTP
import ChatTestSupport


@Suite("Config file and precedence")
struct ConfigFileTests {
    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let file = try ConfigFile.parse("""
            http = "127.0.0.1:9001"
            rate = "7/9"
            message-chars = 100
            bcrypt-cost = 12
            """, path: "/etc/chatd/chatd.toml")
        let sources = SettingSources(
            flags: try ServeOptions.parse(["--http", "127.0.0.1:9003"]).flags,
            environment: ["CHATD_HTTP": "127.0.0.1:9002", "CHATD_RATE": "0", "CHATD_OTHER": "x"],
            file: file)
        let config = try ServerConfig(resolving: sources)
        #expect(config.httpPort == 9003)
        #expect(config.rate.isUnlimited)
        #expect(config.messageChars == 100)
        #expect(config.bcryptCost == 12)
        #expect(config.tokenLifetimeDays == 30)
        #expect(sources.value(.http)?.origin == .flag)
        #expect(sources.value(.rate)?.origin == .environment)
        #expect(sources.value(.messageChars)?.origin == .file("/etc/chatd/chatd.toml"))
        #expect(sources.value(.tokenDays) == nil)
    }

    @Test func relativePathsAreFromTheFilesDirectory() throws {
        let file = try ConfigFile.parse("""
            data-dir = "data"
            tls-cert = "/abs/cert.pem"
            tls-key = "keys/key.pem"
            http = "x:1"
            """, path: "/etc/chatd/chatd.toml")
        #expect(file.values[.dataDir] == "/etc/chatd/data")
        #expect(file.values[.tlsCert] == "/abs/cert.pem")
        #expect(file.values[.tlsKey] == "/etc/chatd/keys/key.pem")
        #expect(file.values[.http] == "x:1")
    }

    @Test func switchesTakeTOMLBooleans() throws {
        let file = try ConfigFile.parse("ftp-anonymous = true\nftp-require-tls = false\n", path: "c.toml")
        let config = try ServerConfig(resolving: SettingSources(file: file))
        #expect(config.ftp?.session.anonymousAllowed == true)
        #expect(config.ftp?.session.requireTLS == false)
    }

    @Test func refusesWhatItCannotUse() {
        func message(_ text: String) -> String? {
            do { _ = try ConfigFile.parse(text, path: "c.toml"); return nil } catch { return error.description }
        }
        #expect(message("htp = \"x:1\"")?.contains("unknown setting 'htp'") == true)
        #expect(message("[ftp]\nport = 1")?.contains("unknown setting 'ftp'") == false)
        #expect(message("[ftp]\nport = 1")?.contains("must be a string, a number or true/false") == true)
        #expect(message("http = [1, 2]")?.contains("must be a string") == true)
        #expect(message("http = \"unterminated")?.hasPrefix("c.toml:1:") == true)
    }

    @Test func badValueInTheFileIsNamedByFileAndKey() throws {
        let file = try ConfigFile.parse("registration = \"maybe\"", path: "/etc/chatd.toml")
        #expect {
            try ServerConfig(resolving: SettingSources(file: file))
        } throws: { error in
            "\(error)".contains("/etc/chatd.toml: registration: expected open or closed")
        }
    }

    @Test func tlsNeedsBothFilesAndRequireTLSNeedsTLS() throws {
        #expect(throws: OptionParsing.InvalidValue.self) {
            try ServeOptions.parse(["--tls-cert", "c.pem"]).resolve(environment: [:])
        }
        #expect(throws: OptionParsing.InvalidValue.self) {
            try ServeOptions.parse(["--ftp-require-tls"]).resolve(environment: [:])
        }
        let config = try ServeOptions.parse(["--ftp-require-tls"]).resolve(environment: ["CHATD_TLS_CERT": "c.pem", "CHATD_TLS_KEY": "k.pem"])
        #expect(config.tls == .init(certificateChain: "c.pem", privateKey: "k.pem"))
        #expect(config.ftp?.session.requireTLS == true)
    }

    /// `check-config` prints `Setting.defaultText` for what nobody set: it must be what chatd
    /// really runs with. Every default that is a value is resolved as if given as a flag; the
    /// result must equal the built-in defaults, field for field.
    @Test func defaultsShownByCheckConfigAreTheOnesInForce() throws {
        let described: Set<Setting> = [.quota, .tlsCert, .tlsKey, .ftpPassivePorts, .database]
        var flags: [Setting: String] = [:]
        for setting in Setting.allCases where !described.contains(setting) {
            flags[setting] = setting.defaultText
        }
        flags[.quota] = "0"
        flags[.database] = "sqlite"
        let resolved = try ServerConfig(resolving: SettingSources(flags: flags))
        #expect(String(describing: resolved) == String(describing: ServerConfig()))
        #expect(ServerConfig().tls == nil && ServerConfig().ftp?.passivePorts == nil && ServerConfig().quota == nil)
    }

    /// `ServeOptions.flags` lists its properties by hand: a flag left out of it would be parsed
    /// and then silently ignored.
    @Test func everyFlagGivenReachesItsSetting() throws {
        let switches: Set<Setting> = [.ftpAnonymous, .ftpRequireTLS]
        for setting in Setting.allCases {
            let arguments = switches.contains(setting) ? [setting.flag] : [setting.flag, "x"]
            let flags = try ServeOptions.parse(arguments).flags
            #expect(flags == [setting: switches.contains(setting) ? "true" : "x"], "\(setting.flag)")
        }
    }

    @Test func everySettingHasAFlag() throws {
        let help = ServeOptions.helpMessage(columns: 400)
        for setting in Setting.allCases {
            #expect(help.contains(setting.flag + " ") || help.contains(setting.flag + "\n"), "\(setting.flag) missing from --help")
            #expect(help.contains(setting.environmentVariable), "\(setting.environmentVariable) missing from --help")
        }
    }
}

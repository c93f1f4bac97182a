import ArgumentParser
import ChatCore
import ChatTLS
import Foundation

/// `chatd check-config`: resolves the settings exactly as `chatd serve` would (flags,
/// environment, `--config` file, defaults), loads the TLS certificate and key, checks the data
/// directory, and prints every setting with where its value came from. Starts nothing, so it is
/// safe to run next to a live server before restarting it.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration chatd serve would run with, and print it.")

    @OptionGroup var options: ServeOptions

    /// Exits as `chatd serve` would: 64 for a bad setting (as for a bad flag), 1 for what would
    /// stop the start (a certificate that cannot be used, a data directory that cannot be written).
    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let sources: SettingSources
        let config: ServerConfig
        do {
            sources = try options.sources(environment: environment)
            config = try ServerConfig(resolving: sources)
        } catch {
            FileHandle.standardError.write(Data("chatd check-config: \(error)\n".utf8))
            throw ExitCode.validationFailure
        }
        do {
            if let files = config.tls { _ = try TLSIdentity(files: files) }
            try Self.checkDataDirectory(config.dataDirectory)
        } catch {
            FileHandle.standardError.write(Data("chatd check-config: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for setting in Setting.allCases {
            print(Self.line(setting, sources.value(setting)))
        }
        print("configuration OK")
    }

    /// `name = value  # origin`, aligned for reading.
    static func line(_ setting: Setting, _ value: SettingSources.Value?) -> String {
        let name = setting.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
        guard let value else { return "\(name)= \(setting.defaultText)  # default" }
        let origin = switch value.origin {
        case .flag: "flag \(setting.flag)"
        case .environment: "environment \(setting.environmentVariable)"
        case .file(let path): "file \(path)"
        }
        return "\(name)= \(value.text)  # \(origin)"
    }

    /// The data directory must be writable, or creatable (serve creates it); nothing is created here.
    static func checkDataDirectory(_ path: String) throws(OptionParsing.InvalidValue) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .init(description: "data directory \(path) is not a directory") }
            guard access(path, W_OK | X_OK) == 0 else { throw .init(description: "data directory \(path) is not writable") }
            return
        }
        var parent = (path as NSString).deletingLastPathComponent
        while !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            parent = (parent as NSString).deletingLastPathComponent
        }
        guard access(parent.isEmpty ? "." : parent, W_OK | X_OK) == 0 else {
            throw .init(description: "data directory \(path) does not exist and cannot be created in \(parent.isEmpty ? "." : parent)")
        }
    }
}

import ChatCore

/// The places a setting can come from, in precedence order: a flag beats the environment, which
/// beats the config file, which beats the default.
struct SettingSources: Sendable {
    /// Where a value came from, for `check-config` and for error messages that name it.
    enum Origin: Sendable, Equatable {
        case flag
        case environment
        case file(String)
    }

    /// A setting's text and where it came from.
    struct Value: Sendable {
        let text: String
        let origin: Origin
        /// How to name it in an error: `--http`, `CHATD_HTTP` or `/etc/chatd/chatd.toml: http`.
        let name: String
    }

    var flags: [Setting: String] = [:]
    var environment: [String: String] = [:]
    var file: ConfigFile?

    func value(_ setting: Setting) -> Value? {
        if let text = flags[setting] {
            return Value(text: text, origin: .flag, name: setting.flag)
        }
        if let text = environment[setting.environmentVariable] {
            return Value(text: text, origin: .environment, name: setting.environmentVariable)
        }
        if let file, let text = file.values[setting] {
            return Value(text: text, origin: .file(file.path), name: "\(file.path): \(setting.rawValue)")
        }
        return nil
    }
}

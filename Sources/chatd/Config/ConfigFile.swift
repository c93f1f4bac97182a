import ChatCore
import Foundation
import TOMLKit

/// `--config FILE`: a TOML file of settings, one `name = value` per line with the names of the
/// long options (`http = "0.0.0.0:8010"`, `rate = "20/40"`, `ftp-anonymous = true`).
///
/// Values are kept as the text a flag would carry, so a file, the environment and a flag go
/// through the same parsers and fail with the same messages. A relative path is taken from the
/// file's directory, not from wherever the daemon was started: a unit file's working directory
/// is `/`. Unknown names are refused, so a typo cannot silently leave a default in force.
struct ConfigFile: Sendable {
    /// A file that cannot be used, with its path and the reason.
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    let path: String
    let values: [Setting: String]

    init(path: String, values: [Setting: String]) {
        self.path = path
        self.values = values
    }

    static func load(path: String) throws(LoadError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError(description: "cannot read config file \(path): \(StartupError.reason(error))")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(LoadError) -> ConfigFile {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw LoadError(description: "\(path):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw LoadError(description: "\(path): \(error)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var values: [Setting: String] = [:]
        for (key, value) in table {
            guard let setting = Setting(rawValue: key) else {
                throw LoadError(description: "\(path): unknown setting '\(key)' (the names are those of chatd serve's long options, e.g. http, data-dir, tls-cert)")
            }
            var text: String
            switch value.type {
            case .string: text = value.string!
            case .int: text = String(value.int!)
            case .bool: text = value.bool! ? "true" : "false"
            case .double: text = String(value.double!)
            default:
                throw LoadError(description: "\(path): \(key) must be a string, a number or true/false")
            }
            if setting.isPath, !text.hasPrefix("/"), !directory.isEmpty {
                text = (directory as NSString).appendingPathComponent(text)
            }
            values[setting] = text
        }
        return ConfigFile(path: path, values: values)
    }
}

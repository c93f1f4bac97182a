import ChatCore
import Shared

/// Parsers for option values, each turning a bad value into a one-line message that names it.
enum OptionParsing {
    typealias InvalidValue = InvalidSetting

    /// `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces).
    static func hostPort(_ text: String, option: String) throws -> (host: String, port: Int) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw InvalidValue(description: "\(option): expected [ADDRESS]:PORT, got '\(text)'") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw InvalidValue(description: "\(option): expected HOST:PORT, got '\(text)'")
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw InvalidValue(description: "\(option): port must be 0-65535, got '\(portText)'")
        }
        return (String(host), port)
    }

    /// A byte count with an optional `K`, `M` or `G` suffix (powers of 1024).
    static func byteSize(_ text: String, option: String) throws -> Int64 {
        guard let bytes = ByteSize.parse(text) else {
            throw InvalidValue(description: "\(option): expected a size such as 1048576, 512K, 100M or 1G, got '\(text)'")
        }
        return bytes
    }

    /// `N` or `N/BURST` messages per second; `0` turns the limit off.
    static func rate(_ text: String, option: String) throws -> RateLimiter.Rate {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let perSecond = Double(parts[0]), perSecond >= 0, perSecond.isFinite else {
            throw InvalidValue(description: "\(option): expected N or N/BURST messages per second, got '\(text)'")
        }
        if perSecond == 0 { return .unlimited }
        let burst = parts.count == 2 ? Double(parts[1]) : perSecond * 2
        guard let burst, burst >= 1, burst.isFinite else {
            throw InvalidValue(description: "\(option): BURST must be at least 1, got '\(text)'")
        }
        return RateLimiter.Rate(perSecond: perSecond, burst: burst)
    }

    /// `FAILURES/WINDOW/LOCK`: that many failures within WINDOW seconds lock for LOCK seconds; `0` disables.
    static func lockout(_ text: String, option: String) throws -> LoginThrottle.Policy {
        if text == "0" { return LoginThrottle.Policy(failures: 0, window: 0, lockout: 0) }
        let parts = text.split(separator: "/").map { Double($0) }
        guard parts.count == 3, let failures = parts[0], let window = parts[1], let lock = parts[2],
              failures >= 1, failures == failures.rounded(), window > 0, lock > 0 else {
            throw InvalidValue(description: "\(option): expected FAILURES/WINDOW_SECONDS/LOCK_SECONDS such as 5/300/60, got '\(text)'")
        }
        return LoginThrottle.Policy(failures: Int(failures), window: window, lockout: lock)
    }

    static func positiveInt(_ text: String, option: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw InvalidValue(description: "\(option): expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// `LOW-HIGH`, a range of TCP ports from 1024 up.
    static func portRange(_ text: String, option: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]),
              (1024...65535).contains(low), (1024...65535).contains(high), low <= high else {
            throw InvalidValue(description: "\(option): expected LOW-HIGH with 1024 <= LOW <= HIGH <= 65535, got '\(text)'")
        }
        return low...high
    }

    /// `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, for switches set from the environment.
    static func boolean(_ text: String, option: String) throws -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw InvalidValue(description: "\(option): expected 1 or 0, got '\(text)'")
        }
    }
}

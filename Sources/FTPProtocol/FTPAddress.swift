import NIOCore

/// The address grammars of FTP's data connections, and the rule that keeps active mode from
/// being used against third parties.
///
/// `PORT` and the `PASV` reply carry an IPv4 address and a port as six decimal bytes
/// `h1,h2,h3,h4,p1,p2` (RFC 959 §4.1.2). `EPRT` carries `|proto|address|port|` with any
/// delimiter, and the `EPSV` reply only `(|||port|)` (RFC 2428).
public enum FTPAddress {
    // MARK: PORT and PASV

    /// The six-byte form `h1,h2,h3,h4,p1,p2` of an IPv4 address, or of an IPv4-mapped IPv6 one (a
    /// dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`). `nil` for other IPv6 addresses.
    public static func hostPort(_ address: SocketAddress) -> String? {
        guard let octets = ipv4Octets(address), let port = address.port, (0...0xFFFF).contains(port) else { return nil }
        return (octets + [UInt8(port >> 8), UInt8(port & 0xFF)]).map(String.init).joined(separator: ",")
    }

    /// Parses `PORT`'s argument, `h1,h2,h3,h4,p1,p2`: six decimal numbers `0...255`.
    public static func parseHostPort(_ argument: Substring) -> Result<SocketAddress, FTPReply> {
        let malformed = FTPReply.syntaxErrorInArguments("PORT needs h1,h2,h3,h4,p1,p2: six numbers from 0 to 255.")
        let fields = argument.trimmingSpaces.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 6 else { return .failure(malformed) }
        var numbers: [Int] = []
        for field in fields {
            let digits = field.trimmingSpaces
            guard (1...3).contains(digits.count), digits.allSatisfy(\.isASCIIDigit),
                  let number = Int(digits), number <= 255 else { return .failure(malformed) }
            numbers.append(number)
        }
        let host = numbers[0..<4].map(String.init).joined(separator: ".")
        guard let address = try? SocketAddress(ipAddress: host, port: numbers[4] << 8 | numbers[5]) else {
            return .failure(malformed)
        }
        return .success(address)
    }

    // MARK: EPRT

    /// The `EPRT` argument for `address`: `|1|a.b.c.d|port|` or `|2|ipv6|port|`.
    public static func extendedHostPort(_ address: SocketAddress) -> String? {
        guard let host = address.ipAddress, let port = address.port else { return nil }
        switch address {
        case .v4: return "|1|\(host)|\(port)|"
        case .v6: return "|2|\(host)|\(port)|"
        case .unixDomainSocket: return nil
        }
    }

    /// Parses `EPRT`'s argument, `<d><proto><d><address><d><port><d>` (RFC 2428 §2).
    ///
    /// The delimiter is whatever character comes first, as long as it is printable ASCII
    /// (33–126); `|` is only the recommended one. A protocol other than 1 or 2 is answered 522 so
    /// the client can retry with one we know; anything else that does not fit is 501.
    public static func parseExtendedHostPort(_ argument: Substring) -> Result<SocketAddress, FTPReply> {
        let malformed = FTPReply.syntaxErrorInArguments("EPRT needs |protocol|address|port|, e.g. |1|192.0.2.7|50000|.")
        let text = argument.trimmingSpaces
        guard let delimiter = text.unicodeScalars.first, (33...126).contains(delimiter.value) else {
            return .failure(malformed)
        }
        let fields = text.split(separator: Character(delimiter), omittingEmptySubsequences: false)
        // "|1|addr|port|" splits into "", "1", "addr", "port", "".
        guard fields.count == 5, fields[0].isEmpty, fields[4].isEmpty else { return .failure(malformed) }
        let networkProtocol: FTPCommand.NetworkProtocol
        switch fields[1] {
        case "1": networkProtocol = .ipv4
        case "2": networkProtocol = .ipv6
        case let other where !other.isEmpty && other.allSatisfy(\.isASCIIDigit):
            return .failure(.networkProtocolNotSupported)
        default: return .failure(malformed)
        }
        let portText = fields[3]
        // RFC 2428's address has no zone index (`fe80::1%2`), which NIO would keep as the scope
        guard (1...5).contains(portText.count), portText.allSatisfy(\.isASCIIDigit),
              let port = Int(portText), port <= 0xFFFF, !fields[2].contains("%"),
              let address = try? SocketAddress(ipAddress: String(fields[2]), port: port) else {
            return .failure(malformed)
        }
        switch (networkProtocol, address) {
        case (.ipv4, .v4), (.ipv6, .v6): return .success(address)
        default: return .failure(malformed)
        }
    }

    // MARK: The bounce rule

    /// Ports below this are refused as active-mode targets (RFC 2577 §3): they are the well-known
    /// services an attacker would aim a bounce at.
    public static let lowestActivePort = 1024

    /// Whether the server may open an active-mode data connection (`PORT`, `EPRT`) to `target`.
    ///
    /// RFC 2577's defence against the bounce attack: only to the host the control connection
    /// comes from, and only to a port ≥ 1024. The host is compared as an address, not as text, and
    /// an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the same host as `a.b.c.d`, because a
    /// dual-stack listener sees IPv4 clients that way while the client's `PORT` names plain IPv4.
    public static func isAllowedActiveTarget(_ target: SocketAddress, controlPeer: SocketAddress) -> Bool {
        guard let port = target.port, port >= lowestActivePort, port <= 0xFFFF,
              let targetHost = canonicalHost(target), let peerHost = canonicalHost(controlPeer) else {
            return false
        }
        return targetHost == peerHost
    }

    /// Whether two addresses are the same host, ports aside: a passive data connection must come
    /// from the control connection's host (RFC 2577 §3), with IPv4-mapped IPv6 folded as above.
    public static func isSameHost(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        guard let hostA = canonicalHost(a), let hostB = canonicalHost(b) else { return false }
        return hostA == hostB
    }

    // MARK: Address bytes

    /// The four bytes of an IPv4 address, or of the IPv4 address inside an IPv4-mapped IPv6 one.
    public static func ipv4Octets(_ address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let ipv4):
            return withUnsafeBytes(of: ipv4.address.sin_addr) { Array($0) }
        case .v6(let ipv6):
            let bytes = withUnsafeBytes(of: ipv6.address.sin6_addr) { Array($0) }
            guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
            return Array(bytes[12..<16])
        case .unixDomainSocket:
            return nil
        }
    }

    /// The host's bytes with IPv4-mapped IPv6 folded to IPv4, so that equal hosts compare equal.
    private static func canonicalHost(_ address: SocketAddress) -> [UInt8]? {
        if let octets = ipv4Octets(address) { return octets }
        if case .v6(let ipv6) = address {
            // the zone is part of the host: fe80::1 on another link is another machine
            return withUnsafeBytes(of: ipv6.address.sin6_addr) { Array($0) }
                + withUnsafeBytes(of: ipv6.address.sin6_scope_id) { Array($0) }
        }
        return nil
    }
}

extension Character {
    /// `0`–`9` only; `Character.isNumber` also accepts other scripts' digits and fractions.
    fileprivate var isASCIIDigit: Bool {
        isASCII && ("0"..."9").contains(self)
    }
}

extension Substring {
    /// Without leading and trailing ASCII spaces, the only blank FTP's grammars allow.
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}

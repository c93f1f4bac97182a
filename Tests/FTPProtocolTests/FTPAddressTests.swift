import NIOCore
import Testing
@testable import FTPProtocol


/// PASV/EPSV replies, PORT/EPRT arguments, and RFC 2577's bounce rule.
@Suite("FTP addresses")
struct FTPAddressTests {
    /// The text between the parentheses of a 227 or 229 reply, as clients extract it.
    private func parenthesised(_ reply: FTPReply) -> Substring? {
        let text = reply.lines[0]
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: open)..<close]
    }

    @Test func pasvReplyRoundTrip() throws {
        let address = try SocketAddress(ipAddress: "192.0.2.7", port: 50_123)
        let reply = try #require(FTPReply.enteringPassive(address))
        #expect(reply.text == "227 Entering Passive Mode (192,0,2,7,195,203).\r\n")
        let tuple = try #require(parenthesised(reply))
        #expect(FTPAddress.parseHostPort(tuple) == .success(address))
    }

    @Test func pasvUsesTheIPv4InsideAMappedAddress() throws {
        let mapped = try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 2048)
        #expect(FTPReply.enteringPassive(mapped)?.lines == ["Entering Passive Mode (10,1,2,3,8,0)."])
        #expect(FTPReply.enteringPassive(try SocketAddress(ipAddress: "2001:db8::1", port: 2048)) == nil)
    }

    @Test func epsvReply() throws {
        let reply = FTPReply.enteringExtendedPassive(port: 50_000)
        #expect(reply.text == "229 Entering Extended Passive Mode (|||50000|)\r\n")
        let fields = try #require(parenthesised(reply)).split(separator: "|", omittingEmptySubsequences: false)
        #expect(fields.count == 5 && fields[0].isEmpty && fields[1].isEmpty && fields[2].isEmpty && fields[4].isEmpty)
        #expect(Int(fields[3]) == 50_000)
    }

    @Test func portRoundTrip() throws {
        for (host, port) in [("127.0.0.1", 1024), ("203.0.113.255", 65_535), ("0.0.0.0", 0)] {
            let address = try SocketAddress(ipAddress: host, port: port)
            let text = try #require(FTPAddress.hostPort(address))
            #expect(FTPAddress.parseHostPort(text[...]) == .success(address))
        }
        #expect(FTPAddress.hostPort(try SocketAddress(ipAddress: "127.0.0.1", port: 1025)) == "127,0,0,1,4,1")
    }

    @Test func eprtRoundTrip() throws {
        for (host, port) in [("127.0.0.1", 5000), ("::1", 5001), ("2001:db8::7", 65_535), ("::ffff:192.0.2.1", 1024)] {
            let address = try SocketAddress(ipAddress: host, port: port)
            let text = try #require(FTPAddress.extendedHostPort(address))
            #expect(FTPAddress.parseExtendedHostPort(text[...]) == .success(address), "\(text)")
        }
        #expect(FTPAddress.extendedHostPort(try SocketAddress(ipAddress: "10.0.0.1", port: 1)) == "|1|10.0.0.1|1|")
        #expect(FTPAddress.extendedHostPort(try SocketAddress(ipAddress: "::1", port: 1)) == "|2|::1|1|")
    }

    @Test func activeTargetOnTheControlPeerIsAllowed() throws {
        let peer = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        #expect(FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.7", port: 1024), controlPeer: peer))
        #expect(FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.7", port: 65_535), controlPeer: peer))
        let peer6 = try SocketAddress(ipAddress: "2001:db8::1", port: 40_000)
        #expect(FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "2001:DB8:0::1", port: 5000), controlPeer: peer6),
                "compared as addresses, not text")
    }

    @Test func anotherHostIsRefused() throws {
        let peer = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        #expect(!FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.8", port: 5000), controlPeer: peer))
        #expect(!FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "::ffff:192.0.2.8", port: 5000), controlPeer: peer))
        let peer6 = try SocketAddress(ipAddress: "2001:db8::1", port: 40_000)
        #expect(!FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "2001:db8::2", port: 5000), controlPeer: peer6))
        #expect(!FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.7", port: 5000), controlPeer: peer6))
    }

    @Test func privilegedPortsAreRefused() throws {
        let peer = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        for port in [0, 21, 25, 1023] {
            #expect(!FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.7", port: port), controlPeer: peer), "\(port)")
        }
    }

    @Test func ipv4MappedIPv6IsTheSameHost() throws {
        let mappedPeer = try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 40_000)
        let plainPeer = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        #expect(FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.7", port: 5000), controlPeer: mappedPeer))
        #expect(FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 5000), controlPeer: plainPeer))
        #expect(!FTPAddress.isAllowedActiveTarget(try SocketAddress(ipAddress: "192.0.2.9", port: 5000), controlPeer: mappedPeer))
    }

    @Test func ipv4Octets() throws {
        #expect(FTPAddress.ipv4Octets(try SocketAddress(ipAddress: "1.2.3.4", port: 0)) == [1, 2, 3, 4])
        #expect(FTPAddress.ipv4Octets(try SocketAddress(ipAddress: "::ffff:1.2.3.4", port: 0)) == [1, 2, 3, 4])
        #expect(FTPAddress.ipv4Octets(try SocketAddress(ipAddress: "::1.2.3.4", port: 0)) == nil, "IPv4-compatible is not mapped")
    }
}

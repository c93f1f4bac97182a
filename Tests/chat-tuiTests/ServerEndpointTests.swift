import Testing

@testable import chat_tui

@Suite("Server endpoint")
struct ServerEndpointTests {
    @Test func httpsMeansWSSAndPort443() throws {
        let endpoint = try ServerEndpoint("https://chat.example.org")
        #expect(endpoint.port == 443)
        #expect(endpoint.base == "https://chat.example.org:443")
        #expect(endpoint.webSocketURL(token: "a+b").hasPrefix("wss://chat.example.org:443/ws?token=a%2Bb"))
        #expect(try ServerEndpoint("127.0.0.1:8010").webSocketURL(token: "t") == "ws://127.0.0.1:8010/ws?token=t")
    }

    @Test func httpsToAnAddressIsRefusedWithTheReason() throws {
        for server in ["https://127.0.0.1:8443", "https://[::1]:8443"] {
            #expect {
                try ServerEndpoint(server)
            } throws: { error in
                "\(error)".contains("https needs the host name the certificate was issued for")
            }
        }
        #expect(throws: Never.self) { try ServerEndpoint("http://127.0.0.1:8010") }
        #expect(try ServerEndpoint("http://[::1]:8010").base == "http://[::1]:8010")
        #expect(throws: Never.self) { try ServerEndpoint("https://localhost:8443") }
    }

    @Test func caFileMustHoldACertificate() throws {
        #expect(try ServerTrust(caFile: nil).tlsConfiguration() == nil)
        #expect(throws: ServerTrust.InvalidCAFile.self) { try ServerTrust(caFile: "/nonexistent/ca.pem").tlsConfiguration() }
    }
}

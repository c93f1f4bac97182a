import HTTPTypes
import Testing
@testable import chatd
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatStorePostgres
@testable import ChatTLS
@testable import ChatHTTP
@testable import ChatFTP
import ChatTestSupport


@Suite("Option values")
struct OptionParsingTests {
    @Test func sizes() throws {
        #expect(try OptionParsing.byteSize("100", option: "x") == 100)
        #expect(try OptionParsing.byteSize("64K", option: "x") == 65536)
        #expect(try OptionParsing.byteSize("3m", option: "x") == 3 << 20)
        #expect(try OptionParsing.byteSize("1G", option: "x") == 1 << 30)
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.byteSize("1T", option: "x") }
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.byteSize("-1", option: "x") }
    }

    @Test func hostPorts() throws {
        #expect(try OptionParsing.hostPort("127.0.0.1:8010", option: "x") == ("127.0.0.1", 8010))
        #expect(try OptionParsing.hostPort("[::1]:0", option: "x") == ("::1", 0))
        #expect(try OptionParsing.hostPort(":9000", option: "x") == ("0.0.0.0", 9000))
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.hostPort("localhost", option: "x") }
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.hostPort("h:70000", option: "x") }
    }

    @Test func rates() throws {
        #expect(try OptionParsing.rate("20/40", option: "x") == .init(perSecond: 20, burst: 40))
        #expect(try OptionParsing.rate("5", option: "x") == .init(perSecond: 5, burst: 10))
        #expect(try OptionParsing.rate("0", option: "x").isUnlimited)
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.rate("fast", option: "x") }
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.rate("5/0", option: "x") }
    }

    @Test func lockouts() throws {
        #expect(try OptionParsing.lockout("5/300/60", option: "x") == .perName)
        #expect(try OptionParsing.lockout("0", option: "x").failures == 0)
        #expect(throws: OptionParsing.InvalidValue.self) { try OptionParsing.lockout("5/300", option: "x") }
    }

    @Test func flagBeatsEnvironmentBeatsDefault() throws {
        let byEnvironment = try ServeOptions.parse([]).resolve(environment: ["CHATD_HTTP": "127.0.0.1:9001", "CHATD_RATE": "0"])
        #expect(byEnvironment.httpPort == 9001)
        #expect(byEnvironment.rate.isUnlimited)
        #expect(byEnvironment.dataDirectory == "./data")
        let byFlag = try ServeOptions.parse(["--http", "127.0.0.1:9002"]).resolve(environment: ["CHATD_HTTP": "127.0.0.1:9001"])
        #expect(byFlag.httpPort == 9002)
        #expect(throws: OptionParsing.InvalidValue.self) {
            try ServeOptions.parse([]).resolve(environment: ["CHATD_REGISTRATION": "maybe"])
        }
    }
}

@Suite("Origin and credentials")
struct OriginPolicyTests {
    @Test func sameOriginComparesHostAndPort() {
        #expect(OriginPolicy.check([.origin: "http://127.0.0.1:8010"], authority: "127.0.0.1:8010") == .sameOrigin)
        #expect(OriginPolicy.check([.origin: "https://chat.example.org"], authority: "chat.example.org") == .sameOrigin)
        #expect(OriginPolicy.check([.origin: "http://evil.example"], authority: "127.0.0.1:8010") == .foreign("http://evil.example"))
        #expect(OriginPolicy.check([.origin: "http://127.0.0.1:9999"], authority: "127.0.0.1:8010") != .sameOrigin)
        #expect(OriginPolicy.check([.referer: "http://127.0.0.1:8010/page"], authority: "127.0.0.1:8010") == .sameOrigin)
        #expect(OriginPolicy.check([:], authority: "127.0.0.1:8010") == .absent)
        #expect(OriginPolicy.check([.origin: "null"], authority: "127.0.0.1:8010") != .sameOrigin)
    }

    @Test func tokenSourcesInOrder() {
        #expect(PresentedToken.find(in: [.authorization: "Bearer abc"], query: "token=q", allowQuery: true) == .init(token: "abc", source: .bearer))
        #expect(PresentedToken.find(in: [.cookie: "x=1; chat_session=cookie"], query: nil, allowQuery: true) == .init(token: "cookie", source: .cookie))
        #expect(PresentedToken.find(in: [:], query: "a=1&token=q", allowQuery: true) == .init(token: "q", source: .query))
        #expect(PresentedToken.find(in: [:], query: "token=q", allowQuery: false) == nil)
    }
}

import NIOCore
import Testing
@testable import FTPProtocol


/// The control-connection parser: every verb, every fixed grammar, every refusal code.
@Suite("FTP command parsing")
struct FTPCommandTests {
    private func parse(_ line: String) -> Result<FTPCommand, FTPReply> {
        FTPCommand.parse(Array(line.utf8))
    }

    private func command(_ line: String) -> FTPCommand? {
        try? parse(line).get()
    }

    /// The reply code of a refused line, or `nil` if it parsed.
    private func refusal(_ line: String) -> Int? {
        if case .failure(let reply) = parse(line) { return reply.code }
        return nil
    }

    @Test func commandsWithoutArguments() {
        #expect(command("QUIT") == .quit)
        #expect(command("SYST") == .syst)
        #expect(command("FEAT") == .feat)
        #expect(command("PWD") == .pwd)
        #expect(command("XPWD") == .pwd)
        #expect(command("CDUP") == .cdup)
        #expect(command("PASV") == .pasv)
        #expect(command("NOOP") == .noop)
        #expect(command("ABOR") == .abor)
    }

    @Test func commandsWithPathArguments() {
        #expect(command("USER alice") == .user("alice"))
        #expect(command("PASS s3cret") == .pass("s3cret"))
        #expect(command("CWD /") == .cwd("/"))
        #expect(command("SIZE a.txt") == .size("a.txt"))
        #expect(command("MDTM a.txt") == .mdtm("a.txt"))
        #expect(command("RETR a.txt") == .retr("a.txt"))
        #expect(command("STOR a.txt") == .stor("a.txt"))
        #expect(command("APPE a.txt") == .appe("a.txt"))
        #expect(command("DELE a.txt") == .dele("a.txt"))
        #expect(command("RNFR a.txt") == .rnfr("a.txt"))
        #expect(command("RNTO b.txt") == .rnto("b.txt"))
        #expect(command("MKD dir") == .mkd("dir"))
        #expect(command("RMD dir") == .rmd("dir"))
    }

    @Test func commandsWithOptionalArguments() {
        #expect(command("LIST") == .list(nil))
        #expect(command("LIST a b.txt") == .list("a b.txt"))
        #expect(command("NLST") == .nlst(nil))
        #expect(command("NLST /") == .nlst("/"))
        #expect(command("MLSD") == .mlsd(nil))
        #expect(command("MLSD /") == .mlsd("/"))
        #expect(command("MLST") == .mlst(nil))
        #expect(command("MLST a.txt") == .mlst("a.txt"))
        #expect(command("STAT") == .stat(nil))
        #expect(command("STAT a.txt") == .stat("a.txt"))
        #expect(command("HELP") == .help(nil))
        #expect(command("HELP RETR") == .help("RETR"))
        #expect(command("PASS") == .pass(""), "anonymous clients may send no password")
    }

    @Test func listOptionsAreDropped() {
        #expect(command("LIST -la") == .list(nil))
        #expect(command("LIST -a -l a.txt") == .list("a.txt"))
        #expect(command("NLST -1 x") == .nlst("-1 x"), "'-1' is not letters, so it is a name")
        #expect(command("LIST -") == .list("-"))
    }

    @Test func verbsAreCaseInsensitive() {
        #expect(command("quit") == .quit)
        #expect(command("Retr a.txt") == .retr("a.txt"))
        #expect(command("type i") == .type(.image))
        #expect(FTPCommand.parse(Array("rEtR A.txt".utf8)) == .success(.retr("A.txt")), "the argument keeps its case")
    }

    @Test func lineEnds() {
        #expect(command("NOOP\r\n") == .noop)
        #expect(command("NOOP\n") == .noop, "bare LF")
        #expect(command("NOOP\r") == .noop)
        #expect(command("RETR a.txt\r\n") == .retr("a.txt"))
        #expect(command("RETR a\rb") == .retr("a\rb"), "only a trailing CR is a line end")
    }

    @Test func pathArgumentsKeepTheirSpaces() {
        #expect(command("STOR my file.txt") == .stor("my file.txt"))
        #expect(command("STOR trailing ") == .stor("trailing "))
        #expect(command("RETR  leading") == .retr(" leading"))
        #expect(command("PASS pass word ") == .pass("pass word "))
        #expect(command("STOR été 日本.txt") == .stor("été 日本.txt"))
    }

    @Test func missingRequiredArgumentsAre501() {
        for verb in ["USER", "CWD", "SIZE", "MDTM", "RETR", "STOR", "APPE", "DELE", "RNFR", "RNTO", "MKD", "RMD",
                     "TYPE", "MODE", "STRU", "PORT", "EPRT", "REST", "ALLO", "OPTS", "AUTH", "PBSZ", "PROT"] {
            #expect(refusal(verb) == 501, "\(verb)")
            #expect(refusal(verb + " ") == 501, "\(verb) with an empty argument")
        }
    }

    @Test func unknownVerbsAndBadLinesAre500() {
        #expect(refusal("XYZZ") == 500)
        #expect(refusal("SITE CHMOD 777 a") == 500)
        #expect(refusal("RETRIEVE a") == 500)
        #expect(refusal("") == 500)
        #expect(refusal("\r\n") == 500)
        #expect(refusal(" NOOP") == 500)
        #expect(refusal("N0OP") == 500)
        #expect(parse("XYZZ").failure?.lines == ["'XYZZ': command not understood."])
    }

    @Test func lineLengthLimit() {
        let name = String(repeating: "a", count: FTPCommand.maxLineBytes - 5)
        #expect(command("STOR " + name) == .stor(name), "exactly the limit")
        #expect(command("STOR " + name + "\r\n") == .stor(name), "the line end does not count")
        #expect(parse("STOR " + name + "a") == .failure(.lineTooLong))
    }

    @Test func invalidUTF8ArgumentIs501() {
        #expect(FTPCommand.parse([0x52, 0x45, 0x54, 0x52, 0x20, 0xC3, 0x28]).failure?.code == 501)
        #expect(FTPCommand.parse([0x52, 0x45, 0x54, 0x52, 0x20, 0xC3, 0xA9]) == .success(.retr("é")))
    }

    @Test func telnetCommandsBeforeTheVerbAreSkipped() {
        // IAC IP IAC DM, as clients send before ABOR.
        #expect(FTPCommand.parse([0xFF, 0xF4, 0xFF, 0xF2] + Array("ABOR\r\n".utf8)) == .success(.abor))
        // The DM byte sent as urgent data may be missing from the stream.
        #expect(FTPCommand.parse([0xFF, 0xF4, 0xFF] + Array("ABOR".utf8)) == .success(.abor))
    }

    @Test func typeGrammar() {
        #expect(command("TYPE A") == .type(.ascii))
        #expect(command("TYPE A N") == .type(.ascii))
        #expect(command("TYPE a  n") == .type(.ascii))
        #expect(command("TYPE I") == .type(.image))
        #expect(command("TYPE L 8") == .type(.image))
        #expect(refusal("TYPE E") == 504)
        #expect(refusal("TYPE A T") == 504)
        #expect(refusal("TYPE L 7") == 504)
        #expect(refusal("TYPE X") == 504)
    }

    @Test func modeAndStructure() {
        #expect(command("MODE S") == .mode)
        #expect(command("mode s") == .mode)
        #expect(refusal("MODE B") == 504)
        #expect(refusal("MODE Z") == 504)
        #expect(command("STRU F") == .stru)
        #expect(refusal("STRU R") == 504)
        #expect(refusal("STRU P") == 504)
    }

    @Test func portGrammar() throws {
        #expect(command("PORT 192,168,1,2,7,138") == .port(try SocketAddress(ipAddress: "192.168.1.2", port: 7 * 256 + 138)))
        #expect(command("PORT 0,0,0,0,0,0") == .port(try SocketAddress(ipAddress: "0.0.0.0", port: 0)))
        #expect(command("PORT 255,255,255,255,255,255") == .port(try SocketAddress(ipAddress: "255.255.255.255", port: 65535)))
        for bad in ["1,2,3,4,5", "1,2,3,4,5,6,7", "256,0,0,1,4,0", "1,2,3,4,5,x", "1,2,3,4,5,", "1,2,3,-4,5,6", "1.2.3.4.5.6", "1,2,3,4,0005,6"] {
            #expect(refusal("PORT " + bad) == 501, "\(bad)")
        }
    }

    @Test func eprtGrammar() throws {
        #expect(command("EPRT |1|132.235.1.2|6275|") == .eprt(try SocketAddress(ipAddress: "132.235.1.2", port: 6275)))
        #expect(command("EPRT |2|1080::8:800:200C:417A|5282|") == .eprt(try SocketAddress(ipAddress: "1080::8:800:200C:417A", port: 5282)))
        #expect(command("EPRT !1!10.0.0.1!2000!") == .eprt(try SocketAddress(ipAddress: "10.0.0.1", port: 2000)), "any delimiter")
        #expect(refusal("EPRT |3|10.0.0.1|2000|") == 522)
        #expect(parse("EPRT |7|x|1|") == .failure(.networkProtocolNotSupported))
        for bad in ["|1|10.0.0.1|2000", "|1|10.0.0.1|70000|", "|1|::1|2000|", "|2|10.0.0.1|2000|", "|1|10.0.0|2000|",
                    "|x|10.0.0.1|2000|", "||10.0.0.1|2000|", "|1|10.0.0.1||", "|1|10.0.0.1|2000|extra|", "1|10.0.0.1|2000|"] {
            #expect(refusal("EPRT " + bad) == 501, "\(bad)")
        }
    }

    @Test func epsvArguments() {
        #expect(command("EPSV") == .epsv(.unspecified))
        #expect(command("EPSV 1") == .epsv(.networkProtocol(.ipv4)))
        #expect(command("EPSV 2") == .epsv(.networkProtocol(.ipv6)))
        #expect(command("EPSV ALL") == .epsv(.all))
        #expect(command("epsv all") == .epsv(.all))
        #expect(refusal("EPSV 3") == 522)
        #expect(refusal("EPSV x") == 501)
    }

    @Test func restGrammar() {
        #expect(command("REST 0") == .rest(0))
        #expect(command("REST 1048576") == .rest(1_048_576))
        #expect(command("REST 9223372036854775807") == .rest(Int64.max))
        for bad in ["-1", "+5", "9223372036854775808", "12ab", "1 2"] {
            #expect(refusal("REST " + bad) == 501, "\(bad)")
        }
    }

    @Test func alloGrammar() {
        #expect(command("ALLO 1024") == .allo(size: 1024, recordSize: nil))
        #expect(command("ALLO 1024 R 512") == .allo(size: 1024, recordSize: 512))
        #expect(command("ALLO 1024 r 512") == .allo(size: 1024, recordSize: 512))
        for bad in ["x", "-1", "1024 R", "1024 X 512", "1024 R x", "1024 512"] {
            #expect(refusal("ALLO " + bad) == 501, "\(bad)")
        }
    }

    @Test func optsGrammar() {
        #expect(command("OPTS UTF8 ON") == .opts(utf8: true))
        #expect(command("opts utf8 off") == .opts(utf8: false))
        #expect(refusal("OPTS UTF8") == 501)
        #expect(command("OPTS MLST type;size;") == .optsMachineListing)
        #expect(command("OPTS MLST") == .optsMachineListing, "an empty fact list is allowed (RFC 3659 §7.9)")
        #expect(refusal("OPTS MODE Z") == 501)
        #expect(refusal("OPTS UTF8 MAYBE") == 501)
    }

    @Test func securityCommands() {
        #expect(command("AUTH TLS") == .auth("TLS"))
        #expect(command("auth tls") == .auth("TLS"))
        #expect(command("PBSZ 0") == .pbsz(0))
        #expect(refusal("PBSZ -1") == 501)
        #expect(refusal("PBSZ 4294967296") == 501)
        #expect(command("PROT P") == .prot(.private))
        #expect(command("PROT C") == .prot(.clear))
        #expect(command("PROT S") == .prot(.safe))
        #expect(command("PROT E") == .prot(.confidential))
        #expect(refusal("PROT X") == 501)
    }

    @Test func everyKnownVerbParsesAndNamesItself() throws {
        let examples = [
            "USER u", "PASS p", "QUIT", "SYST", "FEAT", "OPTS UTF8 ON", "PWD", "XPWD", "CWD /", "CDUP", "TYPE I", "MODE S",
            "STRU F", "PASV", "EPSV", "PORT 1,2,3,4,5,6", "EPRT |1|1.2.3.4|5|", "LIST", "NLST", "MLSD", "MLST", "SIZE a",
            "MDTM a", "REST 1", "RETR a", "STOR a", "APPE a", "DELE a", "RNFR a", "RNTO a", "NOOP", "ABOR", "STAT", "HELP",
            "ALLO 1", "MKD a", "RMD a", "AUTH TLS", "PBSZ 0", "PROT P",
        ]
        #expect(examples.count == FTPCommand.verbs.count)
        for line in examples {
            let parsed = try #require(command(line), "\(line)")
            let verb = String(line.prefix(while: { $0 != " " }))
            #expect(parsed.verb == (verb == "XPWD" ? "PWD" : verb))
            #expect(FTPCommand.verbs.contains(verb))
        }
    }

    @Test func passwordsStayOutOfDescriptions() {
        #expect(command("PASS hunter2").map(String.init(describing:)) == "PASS ****")
        #expect(command("RETR a").map(String.init(describing:)) == "RETR")
    }
}

extension Result {
    /// The error, for `#expect` on refusals.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

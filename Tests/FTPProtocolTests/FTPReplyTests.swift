import NIOCore
import Testing
@testable import FTPProtocol


/// Reply framing (RFC 959 §4.2) and the named replies.
@Suite("FTP replies")
struct FTPReplyTests {
    @Test func singleLine() {
        #expect(FTPReply.ready.text == "220 chatd FTP server ready.\r\n")
        #expect(FTPReply(200, "x").wire == ByteBuffer(string: "200 x\r\n"))
    }

    @Test func multiLineFraming() {
        let reply = FTPReply(214, lines: ["Help follows", "USER PASS", "Help OK."])
        #expect(reply.text == "214-Help follows\r\nUSER PASS\r\n214 Help OK.\r\n")
    }

    @Test func innerLinesStartingWithADigitAreIndented() {
        let reply = FTPReply(211, lines: ["Status", "226 looks like an end", "2 files", " 3 already indented", "End"])
        #expect(reply.text == "211-Status\r\n 226 looks like an end\r\n 2 files\r\n 3 already indented\r\n211 End\r\n")
        // What a client does: read until a line starts with the code and a space.
        let lines = reply.text.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.firstIndex(where: { $0.hasPrefix("211 ") }) == lines.count - 1)
    }

    @Test func lineEndsInsideTextCannotForgeReplies() {
        #expect(FTPReply.fileUnavailable("'a\r\n226 done' not found").text == "550 'a  226 done' not found\r\n")
        #expect(FTPReply(200, lines: []).text == "200 \r\n")
    }

    @Test func features() {
        let reply = FTPReply.features(["UTF8", "EPSV", "MLST type*;size*;modify*;perm*;unique*;"])
        #expect(reply.code == 211)
        #expect(reply.text == "211-Features:\r\n UTF8\r\n EPSV\r\n MLST type*;size*;modify*;perm*;unique*;\r\n211 End\r\n")
    }

    @Test func pathnameDoublesQuotes() {
        #expect(FTPReply.pathname("/").text == "257 \"/\" is the current directory.\r\n")
        #expect(FTPReply.pathname("/a\"b").text == "257 \"/a\"\"b\" is the current directory.\r\n")
    }

    @Test func machineListingPutsFactsAfterOneSpace() {
        let reply = FTPReply.machineListing(path: "a.txt", facts: "type=file;size=1; a.txt")
        #expect(reply.text == "250-Listing a.txt\r\n type=file;size=1; a.txt\r\n250 End\r\n")
    }

    @Test func namedReplyCodes() {
        let expected: [(FTPReply, Int)] = [
            (.openingData, 150), (.dataAlreadyOpen, 125), (.commandOK, 200), (.ok("x"), 200), (.superfluous, 202),
            (.systemStatus([]), 211), (.fileSize(5), 213), (.modificationTime("20260101000000"), 213), (.help([]), 214),
            (.system, 215), (.ready, 220), (.goodbye, 221), (.noTransferToAbort, 225), (.transferComplete, 226),
            (.abortSuccessful, 226), (.enteringExtendedPassive(port: 1), 229), (.loggedIn, 230), (.authAccepted, 234),
            (.fileActionOK("x"), 250), (.pathname("/"), 257), (.needPassword, 331), (.pendingFurtherInformation("x"), 350),
            (.serviceNotAvailable("x"), 421), (.cannotOpenData("x"), 425), (.transferAborted, 426), (.localError("x"), 451),
            (.unknownCommand("X"), 500), (.lineTooLong, 500), (.syntaxError, 500), (.syntaxErrorInArguments("x"), 501),
            (.notImplemented, 502), (.badSequence("x"), 503), (.notImplementedForParameter("x"), 504),
            (.networkProtocolNotSupported, 522), (.notLoggedIn, 530), (.loginIncorrect, 530), (.securityPolicy("x"), 534),
            (.protectionLevelNotSupported, 536), (.fileUnavailable("x"), 550), (.storageExceeded("x"), 552),
            (.nameNotAllowed("x"), 553), (.protectionBufferSize, 200), (.uploadEndNotConfirmed, 426), (.tlsNotConfigured, 502),
            (.protectionRequired, 521), (.tlsRequired, 530),
        ]
        for (reply, code) in expected {
            #expect(reply.code == code, "\(reply.lines)")
            #expect(reply.text.hasPrefix("\(code) ") || reply.text.hasPrefix("\(code)-"))
            #expect(reply.text.hasSuffix("\r\n"))
        }
        #expect(FTPReply.fileSize(1234).text == "213 1234\r\n")
        #expect(FTPReply.system.text == "215 UNIX Type: L8\r\n")
        #expect(FTPReply.storageExceeded("quota").text == "552 quota\r\n")
        #expect(FTPReply.protectionBufferSize.text == "200 PBSZ=0\r\n", "RFC 4217's exact form")
    }
}

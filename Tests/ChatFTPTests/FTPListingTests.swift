import NIOCore
import FTPProtocol
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatTLS
@testable import ChatFTP
import ChatTestSupport


/// LIST, NLST, MLSD/MLST and MDTM text.
@Suite("FTP listings")
struct FTPListingTests {
    /// Sat, 21 Nov 2026 09:30:00.999 UTC.
    let now: Int64 = 1_795_253_400_999

    private func entry(_ name: String = "a.txt", owner: String = "alice", size: Int64 = 1234, modified: Int64,
                       mine: Bool = true) -> FTPListing.Entry {
        FTPListing.Entry(name: name, ownerName: owner, size: size, modifiedMillis: modified, userMayModify: mine, unique: "b10b")
    }

    @Test func recentFilesShowTheTimeOfDay() {
        #expect(FTPListing.listLine(entry(modified: now), nowMillis: now)
            == "-rw-r--r-- 1 alice    alice            1234 Nov 21 09:30 a.txt")
    }

    @Test func sixMonthBoundaryInThePast() {
        let edge = now - FTPListing.sixMonthsMillis
        #expect(FTPListing.listLine(entry(modified: edge), nowMillis: now).hasSuffix(" May 22 18:35 a.txt"))
        #expect(FTPListing.listLine(entry(modified: edge - 1), nowMillis: now).hasSuffix(" May 22  2026 a.txt"))
    }

    @Test func sixMonthBoundaryInTheFuture() {
        let edge = now + FTPListing.sixMonthsMillis
        #expect(FTPListing.listLine(entry(modified: edge), nowMillis: now).hasSuffix(" May 23 00:24 a.txt"))
        #expect(FTPListing.listLine(entry(modified: edge + 1), nowMillis: now).hasSuffix(" May 23  2027 a.txt"))
    }

    @Test func oldFilesShowTheYear() {
        #expect(FTPListing.listLine(entry(modified: 951_782_400_000), nowMillis: now)
            == "-rw-r--r-- 1 alice    alice            1234 Feb 29  2000 a.txt")
    }

    @Test func namesWithSpacesAndNonASCIIAreWrittenAsTheyAre() {
        let line = FTPListing.listLine(entry("my  été 日本.txt ", owner: "björn", modified: now), nowMillis: now)
        #expect(line == "-rw-r--r-- 1 björn    björn            1234 Nov 21 09:30 my  été 日本.txt ")
        // What ls-parsing clients do: the name is everything after the eighth field.
        let fields = line.split(separator: " ", maxSplits: 8, omittingEmptySubsequences: true)
        #expect(fields.count == 9)
        #expect(FTPListing.nameLine(entry("my  été 日本.txt ", modified: now)) == "my  été 日本.txt ")
        #expect(FTPListing.factsLine(entry("a b é", modified: now)).hasSuffix("; a b é"))
    }

    /// LIST's mode and MLSD's `perm` tell the same story: clients read the owner bits as their
    /// own rights, so another user's file is read-only.
    @Test func listModeForAnotherUserIsReadOnly() {
        #expect(FTPListing.listLine(entry(owner: "bob", modified: now, mine: false), nowMillis: now)
            == "-r--r--r-- 1 bob      bob              1234 Nov 21 09:30 a.txt")
        #expect(FTPListing.listLine(entry(owner: "alice", modified: now, mine: true), nowMillis: now).hasPrefix("-rw-r--r-- "))
    }

    @Test func mlsdFactsForTheOwner() {
        #expect(FTPListing.factsLine(entry(modified: now, mine: true))
            == "type=file;size=1234;modify=20261121093000.999;perm=rdfw;unique=b10b; a.txt")
    }

    @Test func mlsdFactsForAnotherUser() {
        #expect(FTPListing.factsLine(entry(owner: "bob", modified: now, mine: false))
            == "type=file;size=1234;modify=20261121093000.999;perm=r;unique=b10b; a.txt")
    }

    @Test func uniqueCannotBreakTheFacts() {
        var odd = entry(modified: 0)
        odd.unique = "a;b c"
        #expect(FTPListing.factsLine(odd) == "type=file;size=1234;modify=19700101000000.000;perm=rdfw;unique=abc; a.txt")
    }

    @Test func rootDirectory() {
        #expect(FTPListing.rootFactsLine(userMayCreate: true) == "type=cdir;perm=elc; /")
        #expect(FTPListing.rootFactsLine(userMayCreate: false) == "type=cdir;perm=el; /")
    }

    @Test func timeValues() {
        #expect(FTPListing.timeValue(millis: now) == "20261121093000")
        #expect(FTPListing.timeValue(millis: now, fraction: true) == "20261121093000.999")
        #expect(FTPListing.timeValue(millis: 0) == "19700101000000")
        #expect(FTPListing.timeValue(millis: -1, fraction: true) == "19691231235959.999")
        #expect(FTPListing.timeValue(millis: 951_782_400_000) == "20000229000000")
        #expect(FTPReply.modificationTime(FTPListing.timeValue(millis: now)).text == "213 20261121093000\r\n")
    }

    @Test func dataConnectionLinesEndInCRLF() {
        #expect(FTPListing.wire(["a", "b c"]) == ByteBuffer(string: "a\r\nb c\r\n"))
        #expect(FTPListing.wire([]).readableBytes == 0)
    }
}

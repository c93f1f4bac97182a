import ChatCore
import FTPProtocol
import Testing
@testable import ChatFTP

/// The reply each file-area refusal gets: the codes PROTOCOL.md §3–4 gives.
@Suite("FTP replies to file refusals")
struct FTPRefusalTests {
    @Test func fileErrorsMapToFTPCodes() {
        #expect(FTPReply(refusing: .invalidName(.init(.badRequest, "bad"))).code == 553)
        #expect(FTPReply(refusing: .notFound("x")).code == 550)
        #expect(FTPReply(refusing: .ownedByAnother(name: "x", owner: "bob")).code == 550)
        #expect(FTPReply(refusing: .notOwner(name: "x", owner: "bob")).code == 550)
        #expect(FTPReply(refusing: .tooLarge(limit: 1)).code == 552)
        #expect(FTPReply(refusing: .quotaExceeded(quota: 1)).code == 552)
        #expect(FTPReply(refusing: .storageFull).code == 452)
        #expect(FTPReply(refusing: .storage("disk")).code == 451)
    }

    @Test func restPastTheEndIs554() {
        #expect(FTPReply(refusing: .invalidOffset(requested: 10, size: 5)).code == 554)
    }

    /// The words are the ones the HTTP door sends for the same refusal.
    @Test func theTextIsTheProtocolErrorsMessage() {
        let refusal = FileError.ownedByAnother(name: "notes.txt", owner: "bob")
        #expect(FTPReply(refusing: refusal).lines == [refusal.protocolError.message])
    }
}

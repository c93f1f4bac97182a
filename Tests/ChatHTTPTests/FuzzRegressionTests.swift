import FTPProtocol
import Foundation
import HTTPParsing
import Hummingbird
import NIOCore
import Shared
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatTLS
@testable import ChatHTTP
import ChatTestSupport


/// Inputs the fuzzers (Tests/Fuzz, `make fuzz`) found to break chatd, kept as tests.
///
/// Each was a way to break chatd from outside; the multipart cases stopped the process, so they
/// run as exit tests (a fix that regresses ends the child, not the test run).
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 50000)

    /// fuzz-ftp-session: `STAT path` during a transfer was allowed while pending, and
    /// `perform(.statusListing)` then replaced the transfer in `pending`. The status listing's
    /// result cleared it, so the transfer's end found nothing pending: the client never got its 226
    /// (seen against a running chatd with RETR of 32 MiB), and new transfers could start beside
    /// the running one.
    @Test func statWithAPathDuringATransferKeepsTheTransfer() {
        var session = FTPSession(configuration: .init(), controlPeer: Self.peer)
        _ = session.receive(.user("alice"))
        _ = session.receive(.pass("secret"))
        _ = session.loginVerified(true)
        _ = session.receive(.epsv(.unspecified))
        _ = session.passiveListening(on: try! SocketAddress(ipAddress: "127.0.0.1", port: 40000))
        #expect(session.receive(.retr("a.txt")) == [.transfer(.retrieve(name: "a.txt", offset: 0), .passive, .clear)])
        #expect(session.dataConnectionOpened() == [.reply(.openingData)])

        #expect(session.receive(.stat("a.txt")) == [.reply(.badSequence("Wait for the running command to finish."))])
        #expect(session.pending == .transfer(.retrieve(name: "a.txt", offset: 0)), "the transfer is still running")
        #expect(session.finished(.done) == [.reply(.transferComplete)], "its end is answered")
    }

    /// fuzz-ftp-command (`hasZoneIndex`): EPRT takes an IPv6 address with a zone index
    /// (`fe80::1%3`: NIO's `SocketAddress(ipAddress:)` keeps it as `sin6_scope_id`), which RFC 2428's
    /// grammar has no room for, and the bounce rule compares only the address bytes: an active data
    /// connection can go to the control peer's link-local address on another interface, which is
    /// another host. EPRT now refuses a zone index (501) and the bounce rule compares it.
    @Test func eprtWithAZoneIndexIsRefused() throws {
        switch FTPCommand.parse(Array("EPRT |2|fe80::1%1|50000|\r\n".utf8)) {
        case .failure(let reply): #expect(reply.code == 501)
        case .success(let command): Issue.record("EPRT with a zone index parsed as \(command)")
        }
        let peer = try SocketAddress(ipAddress: "fe80::1%1", port: 40000)
        let otherLink = try SocketAddress(ipAddress: "fe80::1%2", port: 50000)
        let sameLink = try SocketAddress(ipAddress: "fe80::1%1", port: 50000)
        #expect(!FTPAddress.isAllowedActiveTarget(otherLink, controlPeer: peer), "the same address on another link is another host")
        #expect(FTPAddress.isAllowedActiveTarget(sameLink, controlPeer: peer))
    }

    /// fuzz-multipart: `Content-Type: multipart/form-data; boundary=""` (or `boundary= `) gave
    /// `MultipartUpload.boundary(of:)` an empty boundary, and multipart-kit's
    /// `MultipartParser(boundary:)` has `precondition(!boundary.isEmpty)`: one upload request by
    /// any logged-in user ended chatd (seen against a running chatd).
    @Test func emptyBoundaryIsRefused() async {
        await #expect(processExitsWith: .success) {
            try await FuzzRegressionTests.readForm(contentType: "multipart/form-data; boundary=\"\"", body: "--\r\n\r\n")
        }
        await #expect(throws: MultipartUpload.Failure.self) {
            try await FuzzRegressionTests.readForm(contentType: "multipart/form-data; boundary=\"\"", body: "--\r\n\r\n", swallow: false)
        }
    }

    /// fuzz-multipart: a byte from 0x80 up in a part's header name (`Content-Déposition`, in
    /// Latin-1) indexes multipart-kit's 128-entry table of header-name bytes out of range
    /// (`isAllowedHeaderFieldNameCharacter`): one upload request ended chatd (seen against a running
    /// chatd). multipart-kit 4.7.1 is the newest here, so ``MultipartHeaderGuard`` refuses such a
    /// byte before the parser sees it.
    @Test func nonASCIIHeaderNameIsRefused() async {
        await #expect(processExitsWith: .success) {
            try await FuzzRegressionTests.readForm(contentType: "multipart/form-data; boundary=XyZ", body: Self.latin1HeaderName, latin1: true)
        }
        await #expect(throws: MultipartUpload.Failure.self) {
            try await FuzzRegressionTests.readForm(contentType: "multipart/form-data; boundary=XyZ", body: Self.latin1HeaderName,
                                                   latin1: true, swallow: false)
        }
        // a UTF-8 file name in a header value is fine: only header names are ASCII
        let utf8 = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"caf\u{E9}.txt\"\r\n\r\nhi\r\n--XyZ--\r\n"
        await #expect(throws: Never.self) {
            try await FuzzRegressionTests.readForm(contentType: "multipart/form-data; boundary=XyZ", body: utf8, swallow: false)
        }
    }

    static let latin1HeaderName = "--XyZ\r\nContent-D\u{E9}sposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\nhi\r\n--XyZ--\r\n"

    /// One `MultipartUpload.read` on a real file store; a refusal is fine, only the process matters.
    static func readForm(contentType: String, body: String, latin1: Bool = false, swallow: Bool = true) async throws {
        let fixture = try await FileStoreFixture()
        let bytes = latin1 ? Array(body.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }) : Array(body.utf8)
        let chunks = RequestBody(buffer: ByteBuffer(bytes: bytes))
        let begin = { (name: String, size: Int64?) in try await fixture.store.beginUpload(name: name, by: fixture.alice, declaredSize: size) }
        if swallow {
            if let result = try? await MultipartUpload.read(contentType: contentType, body: chunks, begin: begin) {
                await result.upload.abort()
            }
        } else {
            let result = try await MultipartUpload.read(contentType: contentType, body: chunks, begin: begin)
            await result.upload.abort()
        }
    }
}

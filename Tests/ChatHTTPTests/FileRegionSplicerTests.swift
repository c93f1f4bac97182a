import Foundation
import NIOCore
import NIOEmbedded
import HTTPTypes
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Testing
@testable import ChatCore
@testable import ChatStoreSQLite
@testable import ChatTLS
@testable import ChatHTTP
import ChatTestSupport


@Suite("Zero-copy downloads")
struct FileRegionSplicerTests {
    func openTemporaryFile(_ text: String) throws -> NIOFileHandle {
        let path = makeTemporaryDirectory() + "/content"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: open(path, O_RDONLY))
    }

    @Test func markerBecomesAFileRegionAndOtherBodiesPassUnchanged() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FileRegionSplicer())
        let mailbox = try #require(FileRegionMailbox.of(channel))
        let handle = try openTemporaryFile("0123456789")
        let sent = channel.eventLoop.makePromise(of: Void.self)
        let marker = try #require(mailbox.post(handle, range: 2..<7, sent: sent))
        var told = false
        sent.futureResult.whenSuccess { told = true }

        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(marker)))
        guard case .body(.fileRegion(let region))? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("the marker was not replaced by a file region")
            return
        }
        #expect(region.readerIndex == 2 && region.endIndex == 7)
        #expect(!handle.isOpen, "the file is closed once written")
        #expect(told, "the download learns that its file is sent, so that its response ends only then")

        let lookalike = ByteBuffer(repeating: 0, count: 16)
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(lookalike)))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == .body(.byteBuffer(lookalike)))
        _ = try channel.finish()
    }

    @Test func filesNotYetWrittenAreClosedWhenTheConnectionGoes() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FileRegionSplicer())
        let mailbox = try #require(FileRegionMailbox.of(channel))
        let handle = try openTemporaryFile("abc")
        let sent = channel.eventLoop.makePromise(of: Void.self)
        var failed = false
        sent.futureResult.whenFailure { _ in failed = true }
        #expect(mailbox.post(handle, range: 0..<3, sent: sent) != nil)
        _ = try channel.finish()
        #expect(!handle.isOpen)
        #expect(failed, "a download whose file will never be sent is told so")
        #expect(FileRegionMailbox.of(channel) == nil)
        let late = try openTemporaryFile("late")
        let lateSent = channel.eventLoop.makePromise(of: Void.self)
        #expect(mailbox.post(late, range: 0..<4, sent: lateSent) == nil, "a closed connection takes no more files")
        #expect(!late.isOpen)
        lateSent.futureResult.whenSuccess { Issue.record("a refused file was reported sent") }
    }

    /// The installer must put the splicer below Hummingbird's codec, where bodies are `IOData`;
    /// anywhere else downloads would quietly fall back to copying through buffers.
    @Test func installerPlacesTheSplicerUnderTheHTTPCodec() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try channel.pipeline.syncOperations.addHandler(FileRegionSplicerInstaller())
        let mailbox = try #require(FileRegionMailbox.of(channel))
        let handle = try openTemporaryFile("0123456789")
        let marker = try #require(mailbox.post(handle, range: 0..<10, sent: channel.eventLoop.makePromise()))

        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.body(marker))
        guard case .head? = try channel.readOutbound(as: HTTPServerResponsePart.self),
              case .body(.fileRegion(let region))? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("a body written above the codec did not become a file region")
            return
        }
        #expect(region.endIndex == 10)
        _ = try channel.finish()
    }
}

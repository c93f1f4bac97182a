import NIOCore
import NIOEmbedded
import Testing
@testable import FTPProtocol


/// The control connection's line splitter, on an embedded channel.
@Suite("FTP line decoder")
struct FTPLineDecoderTests {
    func decode(_ chunks: [String], limit: Int = 10) throws -> [FTPLine] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FTPLineDecoder(maxLineBytes: limit)))
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(string: chunk))
        }
        var lines: [FTPLine] = []
        while let line = try channel.readInbound(as: FTPLine.self) { lines.append(line) }
        _ = try? channel.finish()
        return lines
    }

    func text(_ line: FTPLine) -> String? {
        if case .line(let bytes) = line { return String(buffer: bytes) }
        return nil
    }

    @Test func splitsOnLineEndsAcrossReads() throws {
        let lines = try decode(["US", "ER a\r\nPA", "SS b\r\nNOOP\n"])
        #expect(lines.map(text) == ["USER a\r", "PASS b\r", "NOOP"], "the CR stays for the parser, LF alone is accepted")
    }

    @Test func aLineAtTheLimitPassesOneOverIsRefused() throws {
        let lines = try decode(["0123456789\r\n", "0123456789A\r\n", "NOOP\r\n"])
        #expect(lines.count == 3)
        #expect(text(lines[0]) == "0123456789\r")
        #expect(lines[1] == .tooLong)
        #expect(text(lines[2]) == "NOOP\r")
    }

    @Test func anEndlessLineIsDroppedOnceAndTheNextLineStillWorks() throws {
        let flood = String(repeating: "x", count: 25)
        let lines = try decode([flood, flood, flood, "tail\r\nNOOP\r\n"])
        #expect(lines.count == 2, "one 500 for the whole over-long line, not one per read")
        #expect(lines[0] == .tooLong)
        #expect(text(lines[1]) == "NOOP\r")
    }

    @Test func anUnfinishedLastLineIsNotACommand() throws {
        #expect(try decode(["QUIT"]).isEmpty)
    }

    /// What `AUTH TLS` checks before TLS starts: nothing read in clear beyond the `AUTH` line.
    @Test func readAheadCountsLinesAndHeldBytes() throws {
        func readAhead(_ chunks: [String]) throws -> FTPLineDecoder.ReadAhead {
            let readAhead = FTPLineDecoder.ReadAhead()
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FTPLineDecoder(readAhead: readAhead)))
            for chunk in chunks {
                try channel.writeInbound(ByteBuffer(string: chunk))
            }
            return readAhead
        }
        #expect(try readAhead(["AUTH TLS\r\n"]).isExhausted(afterLines: 1))
        #expect(try readAhead(["NOOP\r\n", "AUTH ", "TLS\r\n"]).isExhausted(afterLines: 2))
        #expect(try !readAhead(["AUTH TLS\r\nUSER mallory\r\n"]).isExhausted(afterLines: 1), "a pipelined command")
        #expect(try !readAhead(["AUTH TLS\r\nUSER mal"]).isExhausted(afterLines: 1), "part of a line")
        #expect(try !readAhead(["AUTH TLS\r\n", String(repeating: "x", count: 5000)]).isExhausted(afterLines: 1),
                "an over-long line counts as one")
    }
}

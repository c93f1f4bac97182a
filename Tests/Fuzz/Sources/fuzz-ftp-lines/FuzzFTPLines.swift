import FTPProtocol
import FuzzSupport
import NIOCore
import NIOEmbedded

/// Fuzzes ``FTPLineDecoder``, which splits the control connection's bytes into lines, through an
/// `EmbeddedChannel` as the server's pipeline runs it.
///
/// The input chooses a line limit (small ones reach the edges sooner; or the server's 4096) and
/// then the stream, as chunks of one length byte and that many bytes: the same stream arrives in
/// as many reads as the fuzzer likes.
///
/// Properties:
/// - the lines handed on depend only on the bytes, not on how they were split into reads, and are
///   those of a plain reading of the stream: each LF ends a line; a line longer than the limit
///   (not counting a CR before the LF) is `tooLong`, reported once, as soon as more than limit + 1
///   bytes of it have arrived; an unfinished last line is dropped;
/// - `ReadAhead`, on which `AUTH TLS` relies to refuse commands injected in clear: after every read
///   it says "exhausted" only for the number of lines handed on, never while bytes of a line not
///   yet reported are held, and always when the stream so far ends with a LF.
@main enum FuzzFTPLines {
    static func main() { runLibFuzzer(fuzz) }
}

enum Line: Equatable, CustomStringConvertible {
    case line([UInt8])
    case tooLong

    init(_ line: FTPLine) {
        switch line {
        case .line(let buffer): self = .line(Array(buffer.readableBytesView))
        case .tooLong: self = .tooLong
        }
    }

    var description: String {
        switch self {
        case .line(let bytes): "line(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
        case .tooLong: "tooLong"
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = inputBytes(start, count)
    var reader = FuzzReader(input)
    let limitChoice = reader.byte()
    let limit = limitChoice >= 0xF0 ? FTPCommand.maxLineBytes : 1 + Int(limitChoice % 32)

    let readAhead = FTPLineDecoder.ReadAhead()
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FTPLineDecoder(maxLineBytes: limit, readAhead: readAhead)))
    var stream: [UInt8] = []
    var lines: [Line] = []
    func drain() {
        while let line = try! channel.readInbound(as: FTPLine.self) { lines.append(Line(line)) }
    }

    while !reader.isEmpty {
        let chunk = reader.chunk()
        stream += chunk
        try! channel.writeInbound(ByteBuffer(bytes: chunk))
        drain()

        let pending = stream.count - ((stream.lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0)
        let exhausted = readAhead.isExhausted(afterLines: lines.count)
        check(!readAhead.isExhausted(afterLines: lines.count + 1) && (lines.isEmpty || !readAhead.isExhausted(afterLines: lines.count - 1)),
              "ReadAhead counts another number of lines than were handed on (\(lines.count))", input: input)
        check(!exhausted || pending == 0 || pending > limit + 1,
              "ReadAhead says exhausted while \(pending) bytes of an unreported line are held", input: input)
        check(pending != 0 || exhausted, "ReadAhead says not exhausted after a complete line", input: input)
    }
    _ = try? channel.finish()
    drain()

    let expected = expectedLines(stream, limit: limit)
    check(lines == expected, "decoded \(lines), expected \(expected) (limit \(limit))", input: input)
    return 0
}

/// The lines of `stream`, read as a whole.
func expectedLines(_ stream: [UInt8], limit: Int) -> [Line] {
    var lines: [Line] = []
    var rest = stream[...]
    while let newline = rest.firstIndex(of: 0x0A) {
        let line = rest[..<newline]
        let withoutCR = line.last == 0x0D ? line.count - 1 : line.count
        lines.append(line.count > limit + 1 || withoutCR > limit ? .tooLong : .line(Array(line)))
        rest = rest[(newline + 1)...]
    }
    if rest.count > limit + 1 { lines.append(.tooLong) }
    return lines
}

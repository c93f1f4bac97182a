import NIOCore
import Synchronization

/// One line read from the FTP control connection.
public enum FTPLine: Sendable, Equatable {
    /// The line's bytes without the LF (a CR before it is left for ``FTPCommand/parse(_:)``).
    case line(ByteBuffer)
    /// A line longer than the limit: its bytes were discarded up to its end, and the session
    /// answers 500 once and goes on with the next line.
    case tooLong
}

/// Splits the control connection's bytes into lines, holding at most one limit's worth of bytes:
/// a client that never sends a line end cannot make the server buffer without bound.
public struct FTPLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = FTPLine

    /// The longest line accepted, without its CR LF.
    public let maxLineBytes: Int
    /// What this decoder has taken from the socket, for the connection to read on the event loop.
    public let readAhead: ReadAhead
    /// Inside an over-long line: its remaining bytes are dropped until the LF that ends it.
    private var discarding = false

    public init(maxLineBytes: Int = FTPCommand.maxLineBytes, readAhead: ReadAhead = ReadAhead()) {
        self.maxLineBytes = maxLineBytes
        self.readAhead = readAhead
    }

    /// How far the decoder has read: the lines it handed on and the bytes of an unfinished line it
    /// holds. `AUTH TLS` needs it: TLS may only start if the client sent nothing after the `AUTH`
    /// line in clear, or a command injected before the handshake would be taken as sent under TLS
    /// (the STARTTLS command injection of CVE-2011-0411).
    public final class ReadAhead: Sendable {
        private let lines = Atomic(0)
        private let heldBytes = Atomic(0)

        public init() {}

        /// Whether the decoder has handed on exactly `linesSeen` lines and holds no further byte.
        public func isExhausted(afterLines linesSeen: Int) -> Bool {
            lines.load(ordering: .relaxed) == linesSeen && heldBytes.load(ordering: .relaxed) == 0
        }

        fileprivate func handedOn() {
            lines.add(1, ordering: .relaxed)
        }

        fileprivate func holding(_ bytes: Int) {
            heldBytes.store(bytes, ordering: .relaxed)
        }
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        defer { readAhead.holding(buffer.readableBytes) }
        if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            if discarding {
                buffer.moveReaderIndex(forwardBy: length + 1)
                discarding = false
                return .continue
            }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            let withoutCR = line.readableBytesView.last == UInt8(ascii: "\r") ? line.readableBytes - 1 : line.readableBytes
            fire(withoutCR > maxLineBytes ? .tooLong : .line(line), context: context)
            return .continue
        }
        // No line end yet: one byte more than the limit may still be the CR of a line at the limit.
        if buffer.readableBytes > maxLineBytes + 1 {
            if !discarding {
                discarding = true
                fire(.tooLong, context: context)
            }
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        return .needMoreData
    }

    /// Counts the line before handing it on: the reader may act on it (`AUTH TLS`) at once.
    private func fire(_ line: FTPLine, context: ChannelHandlerContext) {
        readAhead.handedOn()
        context.fireChannelRead(wrapInboundOut(line))
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last command without a line end is not a command: clients always end lines.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

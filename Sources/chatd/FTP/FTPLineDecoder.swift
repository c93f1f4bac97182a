import NIOCore

/// One line read from the FTP control connection.
enum FTPLine: Sendable, Equatable {
    /// The line's bytes without the LF (a CR before it is left for ``FTPCommand/parse(_:)``).
    case line(ByteBuffer)
    /// A line longer than the limit: its bytes were discarded up to its end, and the session
    /// answers 500 once and goes on with the next line.
    case tooLong
}

/// Splits the control connection's bytes into lines, holding at most one limit's worth of bytes:
/// a client that never sends a line end cannot make the server buffer without bound.
struct FTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = FTPLine

    /// The longest line accepted, without its CR LF.
    let maxLineBytes: Int
    /// Inside an over-long line: its remaining bytes are dropped until the LF that ends it.
    private var discarding = false

    init(maxLineBytes: Int = FTPCommand.maxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
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
            context.fireChannelRead(wrapInboundOut(withoutCR > maxLineBytes ? .tooLong : .line(line)))
            return .continue
        }
        // No line end yet: one byte more than the limit may still be the CR of a line at the limit.
        if buffer.readableBytes > maxLineBytes + 1 {
            if !discarding {
                discarding = true
                context.fireChannelRead(wrapInboundOut(.tooLong))
            }
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last command without a line end is not a command: clients always end lines.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

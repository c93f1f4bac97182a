import Foundation
import NIOCore
import NIOWebSocket

/// One benchmark session after the upgrade: counts what arrives into the shared ``BenchStats``
/// and sends chat frames when told to. It never decodes JSON: it looks for the few byte patterns
/// it needs (`"type":"welcome"`, a join notice, the timestamp in a benchmark message's text), so a
/// single generator core can take hundreds of thousands of frames a second.
///
/// Benchmark message texts are `t=<send time, ns> r=<recipient index>`: the receiver computes the
/// latency against the same monotonic clock, and in direct runs counts it only when it is the
/// recipient (the sender's own copy is counted as an echo).
final class BenchConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let index: Int
    private let stats: BenchStats
    private var context: ChannelHandlerContext?
    private(set) var welcomed = false

    init(index: Int, stats: BenchStats) {
        self.index = index
        self.stats = stats
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            received(text: frame.unmaskedData)
        case .ping:
            send(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData), context: context)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stats.disconnected()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failed(error)
        context.close(promise: nil)
    }

    func failed(_ error: any Error) {
        stats.failed(error: "\(error)")
    }

    /// Sends a broadcast (`to == nil`) or a direct message carrying the send time. Call on the
    /// connection's event loop.
    func sendMessage(to recipient: (name: String, index: Int)?, flush: Bool) {
        guard let context, welcomed else { return }
        let now = MonotonicClock.nanoseconds()
        let text: String
        if let recipient {
            text = #"{"type":"direct","to":"\#(recipient.name)","message":"t=\#(now) r=\#(recipient.index)"}"#
        } else {
            text = #"{"type":"broadcast","message":"t=\#(now) r=-1"}"#
        }
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: context.channel.allocator.buffer(string: text))
        context.write(wrapOutboundOut(frame), promise: nil)
        if flush { context.flush() }
        stats.sent += 1
    }

    func flush() {
        context?.flush()
    }

    func close() {
        guard let context else { return }
        var reason = context.channel.allocator.buffer(capacity: 2)
        reason.writeInteger(UInt16(1000))
        send(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reason), context: context)
    }

    private func send(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func received(text: ByteBuffer) {
        text.withUnsafeReadableBytes { bytes in
            if !welcomed {
                if Self.find(Self.welcome, in: bytes) != nil {
                    welcomed = true
                    stats.welcomed()
                }
                return
            }
            if let start = Self.find(Self.benchText, in: bytes) {
                var position = start + Self.benchText.count
                let sent = Self.number(in: bytes, at: &position)
                position += 3 // " r="
                let recipient = Self.number(in: bytes, at: &position, allowMinus: true)
                let latency = MonotonicClock.nanoseconds() - sent
                if recipient == -1 || recipient == index {
                    stats.delivered(latencyNanos: latency)
                } else {
                    stats.echoes += 1
                }
            } else if Self.find(Self.join, in: bytes) != nil {
                stats.joinNotices += 1
            } else if Self.find(Self.errorType, in: bytes) != nil {
                stats.errorFrames += 1
            }
        }
    }

    private static let welcome = Array(#""type":"welcome""#.utf8)
    private static let benchText = Array(#""message":"t="#.utf8)
    private static let join = Array(#""event":"join""#.utf8)
    private static let errorType = Array(#""type":"error""#.utf8)

    private static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
        guard let base = haystack.baseAddress, let first = needle.first, haystack.count >= needle.count else { return nil }
        return needle.withUnsafeBytes { n in
            var offset = 0
            let last = haystack.count - needle.count
            while offset <= last {
                guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return nil }
                let position = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, n.baseAddress!, n.count) == 0 { return position }
                offset = position + 1
            }
            return nil
        }
    }

    private static func number(in bytes: UnsafeRawBufferPointer, at position: inout Int, allowMinus: Bool = false) -> Int64 {
        var negative = false
        if allowMinus, position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
            value = value * 10 + Int64(bytes[position] - 48)
            position += 1
        }
        return negative ? -value : value
    }
}

/// The generator's clock: `CLOCK_MONOTONIC`, the same for the sending and the receiving side.
enum MonotonicClock {
    static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

extension WebSocketMaskingKey {
    static func random() -> WebSocketMaskingKey {
        WebSocketMaskingKey((0..<4).map { _ in UInt8.random(in: .min ... .max) })!
    }
}

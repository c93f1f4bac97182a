import ChatCore
import Logging
import NIOCore

/// Closes a connection whose client has stopped reading: its output has stayed blocked (NIO's
/// channel not writable, the socket's send buffer and the channel's queue full) and the socket
/// has sent no data for `timeout` (`--http-idle-timeout`).
///
/// Nothing else bounds this. Hummingbird's idle timeout leaves a response being written alone,
/// so a download to a client that never reads held its connection, its open file and, under
/// TLS, its buffers for as long as the client kept the TCP connection up. Memory does not grow
/// (downloads wait for writability), but connections and file descriptors are finite. A chat
/// session is also covered by its ping and its slow-consumer limit; this closes what those
/// leave. Installed first in the pipeline, and not an HTTP handler, so it stays after a
/// WebSocket upgrade.
package final class OutputStallHandler: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    private var deadline: Scheduled<Void>?

    package init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, !context.channel.isWritable { arm(context: context) }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            disarm()
        } else if deadline == nil {
            arm(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    private func arm(context: ChannelHandlerContext, in delay: TimeAmount? = nil) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay ?? timeout) { [self] in
            deadline = nil
            checkProgress(context: context)
        }
    }

    /// Blocked output is not yet a stalled client: a plain-TCP download is one `sendfile` region,
    /// and the channel stays unwritable until nearly all of it is sent, however fast the client
    /// reads. So at the deadline the kernel is asked when the socket last sent data
    /// (`TCP_INFO`'s `tcpi_last_data_sent`); a client that took some within the timeout gets the
    /// rest of it again, one that took nothing is cut.
    private func checkProgress(context: ChannelHandlerContext) {
        #if os(Linux)
        if let socket = context.channel as? any SocketOptionProvider {
            socket.getTCPInfo().assumeIsolated().whenComplete { [self] result in
                // writable again meanwhile, or blocked anew with a deadline of its own
                guard deadline == nil, context.channel.isActive, !context.channel.isWritable else { return }
                if case .success(let info) = result {
                    let quiet = TimeAmount.milliseconds(Int64(info.tcpi_last_data_sent))
                    if quiet < timeout {
                        arm(context: context, in: timeout - quiet)
                        return
                    }
                }
                cut(context: context)
            }
            return
        }
        #endif
        cut(context: context)
    }

    private func cut(context: ChannelHandlerContext) {
        logger.notice("client stopped reading; closing the connection", metadata: [
            "address": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")",
            "seconds": "\(timeout.nanoseconds / 1_000_000_000)",
        ])
        context.close(promise: nil)
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

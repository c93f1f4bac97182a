import ChatCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Synchronization

/// Zero-copy downloads on plain TCP: the file goes from the page cache to the socket with
/// sendfile(2), never through a user-space buffer.
///
/// Hummingbird's response body carries only `ByteBuffer`s, but the HTTP/1 encoder below it takes
/// NIO's `FileRegion`. So a download registers its open file with the connection's
/// ``FileRegionMailbox`` and writes a small marker buffer as its body; this handler, placed
/// between Hummingbird's codec and the HTTP/1 encoder, swaps the marker for the file region.
/// Where it is not installed (TLS, later) downloads stream through buffers instead.
package final class FileRegionSplicer: ChannelOutboundHandler, RemovableChannelHandler {
    package typealias OutboundIn = HTTPServerResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    private let mailbox = FileRegionMailbox()

    package func handlerAdded(context: ChannelHandlerContext) {
        FileRegionMailbox.register(mailbox, for: context.channel)
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        FileRegionMailbox.unregister(context.channel)
        mailbox.closeAll()
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .body(.byteBuffer(let buffer)) = unwrapOutboundIn(data),
              let id = FileRegionMailbox.markerID(buffer),
              let posted = mailbox.take(id) else {
            context.write(data, promise: promise)
            return
        }
        let region = FileRegion(fileHandle: posted.handle, readerIndex: posted.range.lowerBound, endIndex: posted.range.upperBound)
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in try? posted.handle.close() }
        written.futureResult.cascade(to: promise)
        written.futureResult.cascade(to: posted.sent)
        context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: written)
    }
}

/// Puts a ``FileRegionSplicer`` in front of Hummingbird's HTTP/1 codec when a connection's
/// pipeline is built (Hummingbird only lets extra handlers go after the codec).
package final class FileRegionSplicerInstaller: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = NIOAny

    package init() {}

    package func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
            try? pipeline.addHandler(FileRegionSplicer(), position: .before(codec))
        }
    }
}

/// The open files waiting to be spliced into one connection's output, by marker id.
package final class FileRegionMailbox: Sendable {
    /// A file waiting to be spliced in: what to send, and whom to tell when it is sent.
    package struct Region {
        package let handle: NIOFileHandle
        package let range: Range<Int>
        package let sent: EventLoopPromise<Void>
    }

    private struct State {
        var regions: [UInt64: Region] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private static let nextID = Atomic<UInt64>(1)
    /// Random per process, so no file content or JSON body can pass for a marker by accident.
    private static let magic = UInt64.random(in: .min ... .max)
    private static let byChannel = Mutex<[ObjectIdentifier: FileRegionMailbox]>([:])

    package static func register(_ mailbox: FileRegionMailbox, for channel: any Channel) {
        byChannel.withLock { $0[ObjectIdentifier(channel)] = mailbox }
    }

    package static func unregister(_ channel: any Channel) {
        _ = byChannel.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The mailbox of a connection whose pipeline can splice files, if it can.
    package static func of(_ channel: any Channel) -> FileRegionMailbox? {
        byChannel.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// Hands over an open file; returns the marker to write as the body, or `nil` (and closes
    /// the file) if the connection is already gone. `sent` is completed when the socket has
    /// taken the whole range, or failed if it never will: the body must not end before, since
    /// Hummingbird starts the connection's idle clock at the response's end, and a download
    /// still in the socket's queue when that clock runs out would be cut.
    package func post(_ handle: NIOFileHandle, range: Range<Int>, sent: EventLoopPromise<Void>) -> ByteBuffer? {
        let id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.regions[id] = Region(handle: handle, range: range, sent: sent)
            return true
        }
        guard accepted else {
            try? handle.close()
            sent.fail(ChannelError.ioOnClosedChannel)
            return nil
        }
        var marker = ByteBuffer()
        marker.writeInteger(Self.magic)
        marker.writeInteger(id)
        return marker
    }

    package func take(_ id: UInt64) -> Region? {
        state.withLock { $0.regions.removeValue(forKey: id) }
    }

    package func closeAll() {
        let left = state.withLock { state in
            state.closed = true
            defer { state.regions = [:] }
            return state.regions.values
        }
        for region in left {
            try? region.handle.close()
            region.sent.fail(ChannelError.ioOnClosedChannel)
        }
    }

    package static func markerID(_ buffer: ByteBuffer) -> UInt64? {
        guard buffer.readableBytes == 16, buffer.getInteger(at: buffer.readerIndex, as: UInt64.self) == magic else { return nil }
        return buffer.getInteger(at: buffer.readerIndex + 8, as: UInt64.self)
    }
}

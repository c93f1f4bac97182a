import NIOCore
import _NIOFileSystem

/// A range of a file read one block at a time, the next block only once the caller is done with
/// the last, for downloads that cannot use `sendfile` (HTTPS, FTPS).
///
/// `readChunks` of swift-nio's file system reads up to eight chunks ahead of its consumer (its
/// watermarks are fixed): with ``FileStore/readBlock`` that is 2 MiB per download whose client
/// is slow or has stopped reading, on top of what is being written. Twenty stalled HTTPS
/// downloads held over 100 MiB that way. Files are read from the page cache, so reading on
/// demand costs no throughput worth having.
package enum FileBlocks {
    /// The file ended before the range did: its content is not what the database says.
    package struct Truncated: Error, CustomStringConvertible {
        package let offset: Int64
        package var description: String { "the file ends at \(offset), before the range it should hold" }
    }

    package static func forEach(in handle: some ReadableFileHandleProtocol, range: Range<Int64>,
                        blockSize: ByteCount = FileStore.readBlock,
                        _ body: (ByteBuffer) async throws -> Void) async throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let length = min(blockSize.bytes, range.upperBound - offset)
            let block = try await handle.readChunk(fromAbsoluteOffset: offset, length: .bytes(length))
            guard block.readableBytes > 0 else { throw Truncated(offset: offset) }
            offset += Int64(block.readableBytes)
            try await body(block)
        }
    }
}

import ChatCore
import Crypto
import Foundation

/// Streams blobs into the backup through one fixed buffer, hashing the bytes as they are
/// written: memory stays constant whatever the file size, and what is checked against the row
/// is exactly what went into the copy.
package final class BlobCopier {
    /// What was written: compared with the row's size and SHA-256 by the caller.
    package struct Copied {
        package let size: Int64
        package let sha256: String
    }

    private let buffer: UnsafeMutableRawBufferPointer

    package init(bufferSize: Int = 1 << 20) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    /// Copies `source` to the new file `destination` (mode 0600: file contents are private to
    /// the server) and syncs it before returning.
    package func copy(from source: String, to destination: String) throws(BackupError) -> Copied {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .system("open", source, errno: errno) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw .system("create", destination, errno: errno) }
        defer { close(output) }
        var hash = SHA256()
        var size: Int64 = 0
        while true {
            try BackupInterruption.check()
            let count = read(input, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("read", source, errno: errno)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try Self.writeAll(chunk, to: output, path: destination)
            size += Int64(count)
        }
        guard fsync(output) == 0 else { throw .system("sync", destination, errno: errno) }
        return Copied(size: size, sha256: hash.finalize().storedForm)
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws(BackupError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .system("write", path, errno: errno)
            }
            offset += written
        }
    }
}

import ChatCore
import Foundation

/// Why `chatd backup` failed, worded for the operator who ran it: each case carries the paths
/// and names needed to act on it, and its description is the one line printed after
/// `chatd backup: `.
package enum BackupError: Error, CustomStringConvertible {
    /// The source holds no chatd data: most likely a wrong `--data-dir`.
    case noData(ExistingDataDirectory.Missing)
    case destinationNotEmpty(String)
    case destinationNotADirectory(String)
    case destinationParentMissing(String)
    /// Another `chatd backup` of the same data directory holds the staging lock.
    case anotherBackupRunning(String)
    /// Hard links need `files/blobs` and the staging directory on one file system.
    case stagingOnAnotherFileSystem(String)
    /// The kernel refuses hard links to files of another user (`fs.protected_hardlinks`).
    case linkNotPermitted(String)
    /// The file kept being replaced or deleted between the blob links and each of the snapshots.
    case filesKeptChanging(file: String, attempts: Int)
    /// A copied blob does not match its row: the data directory is damaged, not the backup.
    case blobMismatch(file: String, blob: String, expectedSize: Int64, size: Int64, expectedSHA256: String, sha256: String)
    case database(String)
    /// A file system operation failed, with the system's reason.
    case io(operation: String, path: String, reason: String)
    /// SIGINT or SIGTERM arrived; what was written so far has been removed.
    case interrupted

    /// A failed system call, described by its `errno`.
    package static func system(_ operation: String, _ path: String, errno code: Int32) -> BackupError {
        .io(operation: operation, path: path, reason: String(cString: strerror(code)))
    }

    package var description: String {
        switch self {
        case .noData(let missing):
            missing.description
        case .destinationNotEmpty(let path):
            "\(path) exists and is not empty; give a new or an empty directory"
        case .destinationNotADirectory(let path):
            "\(path) exists and is not a directory; give a new or an empty directory"
        case .destinationParentMissing(let path):
            "the directory \(path) does not exist; create it first"
        case .anotherBackupRunning(let path):
            "another chatd backup of \(path) is running"
        case .stagingOnAnotherFileSystem(let path):
            "cannot hard-link file contents into \(path): it must be on the same file system as files/blobs"
        case .linkNotPermitted(let path):
            "not allowed to hard-link \(path): run chatd backup as the user chatd runs as, or as root"
        case .filesKeptChanging(let file, let attempts):
            "the file '\(file)' was replaced or deleted during each of \(attempts) snapshots; try again when the server is less busy"
        case .blobMismatch(let file, let blob, let expectedSize, let size, let expectedSHA256, let sha256):
            "the content of '\(file)' (files/blobs/\(blob)) has \(size) bytes with SHA-256 \(sha256), "
                + "but the database says \(expectedSize) bytes with SHA-256 \(expectedSHA256): the data directory is damaged"
        case .database(let message):
            "database: \(message)"
        case .io(let operation, let path, let reason):
            "cannot \(operation) \(path): \(reason)"
        case .interrupted:
            "interrupted; nothing was written"
        }
    }
}

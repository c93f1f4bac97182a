import Foundation
import NIOCore
import _NIOFileSystem

/// An error from a store that can tell whether it failed for lack of disk space. The stores'
/// own errors (SQLite's `SQLITE_FULL`, PostgreSQL's SQLSTATE 53100) conform in the store targets,
/// so the core decides without knowing either database.
package protocol SpaceReportingError: Error {
    /// The write failed because a disk was full.
    var isOutOfSpace: Bool { get }
    /// The full disk is the database server's, not the data directory's: free space there does
    /// not end the state.
    var isOnDatabaseServer: Bool { get }
}

/// Recognises a write that failed because the disk is full, whichever layer reported it: the
/// file system (`ENOSPC`, or `EDQUOT` for a disk quota) or a store (``SpaceReportingError``).
/// Users are told `storage_full` for these and `internal` for everything else, so the line
/// between the two is drawn here once.
package enum OutOfSpace {
    package static func isCause(of error: any Error) -> Bool {
        switch error {
        case let error as any SpaceReportingError:
            return error.isOutOfSpace
        case let error as FileSystemError:
            if let call = error.cause as? FileSystemError.SystemCallError { return isFull(errno: call.errno.rawValue) }
            return error.cause.map(isCause(of:)) ?? false
        case let error as IOError:
            return isFull(errno: error.errnoCode)
        case let error as POSIXError:
            return isFull(errno: error.code.rawValue)
        case let error as NSError where error.domain == NSPOSIXErrorDomain:
            return isFull(errno: Int32(error.code))
        default:
            return false
        }
    }

    /// Whether the full disk is a database server's (PostgreSQL's), not the data directory's.
    package static func isOnDatabaseServer(_ error: any Error) -> Bool {
        (error as? any SpaceReportingError)?.isOnDatabaseServer ?? false
    }

    private static func isFull(errno code: Int32) -> Bool {
        code == ENOSPC || code == EDQUOT
    }
}

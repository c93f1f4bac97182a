import Foundation
import GRDB
import NIOCore
import _NIOFileSystem

/// Recognises a write that failed because the disk is full, whichever layer reported it: the
/// file system (`ENOSPC`, or `EDQUOT` for a disk quota), SQLite (`SQLITE_FULL`) or PostgreSQL
/// (SQLSTATE 53100, `disk_full`). Users are told `storage_full` for these and `internal` for
/// everything else, so the line between the two is drawn here once.
enum OutOfSpace {
    static func isCause(of error: any Error) -> Bool {
        switch error {
        case FileError.storageFull:
            return true
        case let error as DatabaseError:
            return error.resultCode == .SQLITE_FULL
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
            return PostgresDatabase.isDiskFull(error)
        }
    }

    private static func isFull(errno code: Int32) -> Bool {
        code == ENOSPC || code == EDQUOT
    }
}

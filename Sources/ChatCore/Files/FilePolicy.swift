/// The file area's rules as decisions on plain values: who may change a file, how large one may
/// be, how much one owner may store. Every place that enforces one asks here: ``FileStore``
/// before an upload starts, ``FileUpload`` as bytes arrive, each ``FileCatalog`` inside the
/// transaction that makes the change (with the state it read in that transaction), the HTTP door
/// before it reads a body, and the FTP door when it lists permissions.
package struct FilePolicy: Sendable, Equatable {
    /// `--max-file-size`: the largest file, inclusive.
    package var maxFileSize: Int64
    /// `--quota`: bytes one owner may store in all; `nil` for no limit.
    package var quota: Int64?

    package init(maxFileSize: Int64, quota: Int64? = nil) {
        self.maxFileSize = maxFileSize
        self.quota = quota
    }

    // MARK: ownership

    /// Whether `accountID` may replace, rename or delete `file`: only its owner may. `nil` is a
    /// caller without an account (FTP's anonymous login), who may change nothing.
    package static func mayChange(_ file: StoredFile, by accountID: Int64?) -> Bool {
        file.ownerID == accountID
    }

    /// Refuses a change (delete, rename) to someone else's file.
    package static func checkMayChange(_ file: StoredFile, by accountID: Int64?) throws(FileError) {
        guard mayChange(file, by: accountID) else { throw .notOwner(name: file.name, owner: file.ownerName) }
    }

    /// Refuses writing to a name that holds another user's file (an upload, or a rename onto it).
    package static func checkMayWrite(over existing: StoredFile?, by accountID: Int64) throws(FileError) {
        if let existing, !mayChange(existing, by: accountID) {
            throw .ownedByAnother(name: existing.name, owner: existing.ownerName)
        }
    }

    // MARK: size and quota

    /// Refuses `size` bytes (what arrived so far, or what a client announced) over the limit.
    package func checkSize(_ size: Int64) throws(FileError) {
        if size > maxFileSize { throw .tooLarge(limit: maxFileSize) }
    }

    /// Refuses a file of `size` bytes when the owner already stores `othersUsage` in other files
    /// and the two would pass the quota. A replaced file's old size is not in `othersUsage`: it
    /// stops counting when the new one is committed.
    package func checkQuota(othersUsage: Int64, plus size: Int64) throws(FileError) {
        if let quota, othersUsage + size > quota { throw .quotaExceeded(quota: quota) }
    }

    /// The largest request body an upload route accepts: the file plus `framing` (a multipart
    /// envelope). A body announced as larger is refused before it is read.
    package func largestBody(framing: Int64 = 0) -> Int64 {
        maxFileSize + framing
    }
}

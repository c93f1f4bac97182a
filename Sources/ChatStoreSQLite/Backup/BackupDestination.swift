import ChatCore
import Foundation

/// Where a backup goes. `DEST` must not exist or must be an empty directory: a backup never
/// mixes with what is there. Everything is built in `DEST.partial-<pid>` beside it and renamed
/// into place only when complete and synced, so a backup that fails or is killed never leaves a
/// `DEST` that looks like a data directory.
package struct BackupDestination {
    package let path: String
    /// The directory that holds `DEST`, and the partial directory beside it.
    package let parentDirectory: String
    package let partialPath: String

    package var databasePath: String { (partialPath as NSString).appendingPathComponent("chatd.sqlite") }
    package var filesDirectory: String { (partialPath as NSString).appendingPathComponent("files") }
    package var blobDirectory: String { (filesDirectory as NSString).appendingPathComponent("blobs") }
    package var temporaryDirectory: String { (filesDirectory as NSString).appendingPathComponent("tmp") }

    /// Checks `DEST` and removes the `DEST.partial-<pid>` of backups that were killed (their
    /// process is gone); changes nothing else.
    package init(path raw: String, note: (String) -> Void) throws(BackupError) {
        path = (raw as NSString).standardizingPath
        let parent = (path as NSString).deletingLastPathComponent
        parentDirectory = parent.isEmpty ? "." : parent
        let base = (path as NSString).lastPathComponent
        partialPath = (parentDirectory as NSString).appendingPathComponent("\(base).partial-\(getpid())")

        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else { throw .destinationNotADirectory(path) }
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw .io(operation: "list", path: path, reason: error.localizedDescription)
            }
            guard entries.isEmpty else { throw .destinationNotEmpty(path) }
        } else if errno != ENOENT {
            throw .system("examine", path, errno: errno)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parentDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .destinationParentMissing(parentDirectory)
        }
        for stale in Self.abandonedPartials(of: base, in: parentDirectory) {
            let stalePath = (parentDirectory as NSString).appendingPathComponent(stale)
            try BackupDisk.removeTree(stalePath)
            note("removed \(stalePath), left by an interrupted backup")
        }
    }

    /// Creates the partial directory and its `files/blobs` and `files/tmp`; directories are
    /// 0700, as a backup holds password hashes and tokens.
    package func create() throws(BackupError) {
        for directory in [partialPath, filesDirectory, blobDirectory, temporaryDirectory] {
            guard mkdir(directory, 0o700) == 0 else { throw .system("create", directory, errno: errno) }
        }
    }

    /// Syncs the directories and renames the partial directory to `DEST`: the backup appears
    /// whole or not at all. (rename(2) replaces an empty directory, and refuses a non-empty one.)
    package func publish() throws(BackupError) {
        for directory in [blobDirectory, temporaryDirectory, filesDirectory, partialPath] {
            try BackupDisk.syncDirectory(directory)
        }
        guard rename(partialPath, path) == 0 else {
            if errno == ENOTEMPTY || errno == EEXIST { throw .destinationNotEmpty(path) }
            throw .system("rename \(partialPath) to", path, errno: errno)
        }
        try BackupDisk.syncDirectory(parentDirectory)
    }

    /// Removes the partial directory after a failure.
    package func discard() {
        try? FileManager.default.removeItem(atPath: partialPath)
    }

    /// `BASE.partial-<pid>` entries whose process no longer exists. A live pid is left alone,
    /// even if it was reused by an unrelated process: removing a running backup's work is worse
    /// than leaving a dead one's.
    private static func abandonedPartials(of base: String, in parent: String) -> [String] {
        let prefix = "\(base).partial-"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        return entries.filter { entry in
            guard entry.hasPrefix(prefix), let pid = pid_t(entry.dropFirst(prefix.count)), pid > 0 else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
    }
}

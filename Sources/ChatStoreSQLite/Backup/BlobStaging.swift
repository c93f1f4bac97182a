import ChatCore
import Foundation

/// Hard links to the blobs, kept inside the data directory so that a blob the running server
/// unlinks (its file replaced or deleted) stays readable until the backup has copied it. A link
/// costs no space and no copying; the space of a blob unlinked meanwhile is freed when the
/// staging directory is removed.
///
/// It is `files/backup-staging`: beside `files/blobs`, so the links stay on one file system,
/// and outside `blobs` and `tmp`, the only directories chatd's start-up clean-up empties, so a
/// server (re)starting during a backup leaves it alone. One backup at a time holds an `flock` on
/// `files`; the holder knows that a staging directory it finds was left by a killed backup and
/// removes it.
package final class BlobStaging {
    package static let directoryName = "backup-staging"

    package let blobDirectory: String
    package let directory: String
    /// Blobs linked so far: a retried snapshot links only what appeared since.
    private var linked: Set<String> = []
    private let lockDescriptor: Int32

    /// Takes the lock and starts an empty staging directory, removing a stale one.
    package init(filesDirectory: String, note: (String) -> Void) throws(BackupError) {
        blobDirectory = (filesDirectory as NSString).appendingPathComponent("blobs")
        directory = (filesDirectory as NSString).appendingPathComponent(Self.directoryName)
        if mkdir(filesDirectory, 0o755) != 0 && errno != EEXIST {
            throw .system("create", filesDirectory, errno: errno)
        }
        lockDescriptor = open(filesDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lockDescriptor >= 0 else { throw .system("open", filesDirectory, errno: errno) }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(lockDescriptor)
            if error == EWOULDBLOCK { throw .anotherBackupRunning((filesDirectory as NSString).deletingLastPathComponent) }
            throw .system("lock", filesDirectory, errno: error)
        }
        do throws(BackupError) {
            var status = stat()
            if lstat(directory, &status) == 0 {
                try BackupDisk.removeTree(directory)
                note("removed \(directory), left by an interrupted backup")
            }
            guard mkdir(directory, 0o700) == 0 else { throw .system("create", directory, errno: errno) }
        } catch {
            close(lockDescriptor)
            throw error
        }
    }

    package func path(of blob: String) -> String {
        (directory as NSString).appendingPathComponent(blob)
    }

    /// Links every blob present now that is not linked yet.
    package func linkPresentBlobs() throws(BackupError) {
        for blob in try Self.entries(of: blobDirectory) where !linked.contains(blob) {
            try BackupInterruption.check()
            _ = try link(blob)
        }
    }

    /// Links one blob; `false` when the server has already unlinked it.
    package func link(_ blob: String) throws(BackupError) -> Bool {
        if linked.contains(blob) { return true }
        let source = (blobDirectory as NSString).appendingPathComponent(blob)
        if Glibc.link(source, path(of: blob)) != 0 {
            switch errno {
            case ENOENT: return false
            case EEXIST: break
            case EXDEV: throw .stagingOnAnotherFileSystem(directory)
            case EPERM: throw .linkNotPermitted(source)
            case let error: throw .system("hard-link", source, errno: error)
            }
        }
        linked.insert(blob)
        return true
    }

    /// Removes the links and releases the lock; called on every way out of a backup.
    package func remove() {
        try? BackupDisk.removeTree(directory)
        close(lockDescriptor)
    }

    /// The names in a directory; none when it does not exist (a server that never stored a file).
    private static func entries(of path: String) throws(BackupError) -> [String] {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return [] }
            throw .system("list", path, errno: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .system("list", path, errno: errno) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
    }
}

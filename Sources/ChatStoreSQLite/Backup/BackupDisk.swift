import ChatCore
import Foundation

/// The file system steps a backup takes by path, failing with a ``BackupError`` that names the
/// path. Syncing matters: a backup is worth having only once it is on disk, and a new directory
/// entry (a copied blob, the final rename) survives a power cut only once its directory is
/// synced too.
package enum BackupDisk {
    package static func syncFile(_ path: String) throws(BackupError) {
        try sync(path, flags: O_RDONLY)
    }

    package static func syncDirectory(_ path: String) throws(BackupError) {
        try sync(path, flags: O_RDONLY | O_DIRECTORY)
    }

    package static func removeTree(_ path: String) throws(BackupError) {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .io(operation: "remove", path: path, reason: error.localizedDescription)
        }
    }

    private static func sync(_ path: String, flags: Int32) throws(BackupError) {
        let descriptor = open(path, flags | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", path, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .system("sync", path, errno: errno) }
    }
}

import Foundation

/// A data directory that must already hold chatd's data: the operator's commands (`chatd user`,
/// `chatd backup`) refuse a path that does not, so that a mistyped `--data-dir` fails with its
/// name instead of quietly becoming a new, empty database.
package enum ExistingDataDirectory {
    /// Why a directory holds no chatd data, in the words both commands print.
    package struct Missing: Error, CustomStringConvertible, Equatable {
        package let directory: String
        /// The directory exists but has no `chatd.sqlite`.
        package let databaseOnly: Bool

        package var description: String {
            databaseOnly
                ? "no chatd data in \(directory): it has no chatd.sqlite"
                : "no chatd data in \(directory): the directory does not exist (give --data-dir or CHATD_DATA_DIR)"
        }
    }

    /// The path of `directory`'s database. `mayCreateDatabase`: a directory without one is fine
    /// (accounts made before the first start, for closed registration).
    package static func database(in directory: String, mayCreateDatabase: Bool = false) throws(Missing) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Missing(directory: directory, databaseOnly: false)
        }
        let path = (directory as NSString).appendingPathComponent("chatd.sqlite")
        guard mayCreateDatabase || FileManager.default.fileExists(atPath: path) else {
            throw Missing(directory: directory, databaseOnly: true)
        }
        return path
    }
}

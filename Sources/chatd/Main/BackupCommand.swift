import ArgumentParser
import ChatCore
import ChatStoreSQLite
import Foundation

/// `chatd backup DEST`: a consistent copy of the data directory (database and file area), safe
/// to run while the server runs; the work is ``DataBackup``'s. Blocking file I/O throughout,
/// so a plain synchronous command.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the data directory to DEST, consistent as of one moment, while the server runs.",
        discussion: """
            DEST must not exist or must be an empty directory; it becomes a data directory that \
            chatd --data-dir DEST serves. Exit status 0 on success, 1 on failure.
            """)

    @Argument(help: "The new data directory.")
    var destination: String

    @Option(help: "Data directory to back up (CHATD_DATA_DIR). Default: ./data")
    var dataDir: String?

    func run() throws {
        let backup = DataBackup(
            dataDirectory: dataDir ?? ProcessInfo.processInfo.environment["CHATD_DATA_DIR"] ?? "./data",
            destination: destination,
            note: { FileHandle.standardError.write(Data("chatd backup: \($0)\n".utf8)) })
        BackupInterruption.install()
        do {
            print(try backup.run())
        } catch {
            FileHandle.standardError.write(Data("chatd backup: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

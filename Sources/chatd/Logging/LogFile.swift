import ChatCore
import Dispatch
import Foundation
import Logging
import Shared

/// `DATA_DIR/logs/server.log`, appended to from a serial queue so that logging never makes the
/// caller (often an event loop) wait on the disk. Lines are formatted by ``LogFileHandler``.
final class LogFile: Sendable {
    private let queue = DispatchQueue(label: "chatd.logfile")
    private let handle: FileHandle
    let path: String

    init(directory: String) throws(StartupError) {
        let logs = (directory as NSString).appendingPathComponent("logs")
        path = (logs as NSString).appendingPathComponent("server.log")
        do {
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            // O_APPEND: every write lands at the end as it is then, so cluster nodes sharing the
            // data directory add their lines to one log instead of writing over each other's.
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw StartupError("cannot write log file \(path): \(String(cString: strerror(errno)))")
            }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        } catch let error as StartupError {
            throw error
        } catch {
            throw StartupError("cannot write log file \(path): \(error.localizedDescription)")
        }
    }

    func append(_ line: String) {
        queue.async { [handle] in
            try? handle.write(contentsOf: Data(line.utf8))
        }
    }

    /// Waits until every line appended so far is written.
    func flush() {
        queue.sync { [handle] in try? handle.synchronize() }
    }
}

/// A swift-log handler writing one line per event to a ``LogFile``, in the same shape as
/// swift-log's stderr handler.
struct LogFileHandler: LogHandler {
    let label: String
    let file: LogFile
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        let rendered = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        file.append("\(Timestamp.rfc3339(millis: Timestamp.nowMillis())) \(event.level) \(label):\(rendered) \(event.message)\n")
    }
}

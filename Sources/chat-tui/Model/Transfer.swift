/// An upload or download in progress, for the progress display.
struct Transfer: Equatable, Sendable {
    enum Direction: Equatable, Sendable {
        case upload
        case download
    }

    /// Chosen by the model and carried by the effect, so that progress reports find their entry.
    let id: Int
    let direction: Direction
    /// The name in the file area.
    let name: String
    /// The local file: the source of an upload, the destination of a download.
    let localPath: String
    var bytes: Int64 = 0
    /// `nil` while unknown (a download before its headers arrive).
    var total: Int64?

    /// 0...100, or `nil` while the total is unknown.
    var percent: Int? {
        guard let total, total > 0 else { return nil }
        return Int(min(100, bytes * 100 / total))
    }
}

/// Why a transfer failed, in words for the status line.
struct TransferFailure: Error, Equatable, Sendable {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}

import Shared

/// Everything that can happen to the client, as input to ``ChatModel/handle(_:)``: frames and
/// connection changes from the Net layer, keys and resizes from the screen, results of the HTTP
/// file operations, and the clock.
enum ChatEvent: Sendable {
    case frame(ServerFrame)
    case key(Key)
    /// The WebSocket is open; `welcome` follows.
    case connected
    /// The WebSocket closed or a connection attempt failed. With `willRetry` false the model stops
    /// reconnecting (for example when the server refuses the token: trying again cannot help).
    case disconnected(reason: String, willRetry: Bool = true)
    /// One second passed. Counts down the reconnect delay and typing notices; the Net layer sends
    /// it once a second for as long as the client runs.
    case tick
    /// The terminal's size, at start and after every SIGWINCH.
    case resize(columns: Int, rows: Int)
    /// The answer of `GET /api/files`, asked for by ``ChatEffect/fetchFiles``.
    case fileList([FileInfo])
    case transferProgress(id: Int, bytes: Int64, total: Int64?)
    /// An upload or download ended; on success, with the number of bytes moved.
    case transferFinished(id: Int, Result<Int64, TransferFailure>)
    /// The answer to ``ChatEffect/completePath(_:)``: full replacements for `partial`, directories
    /// ending in `/`. Ignored if the prompt changed in the meantime.
    case pathCompletions(partial: String, candidates: [String])
    /// A download did not start because its destination, `path`, is an existing file.
    case downloadTargetExists(id: Int, path: String)
    /// A file request (list, delete) failed: the server's error message, or why it could not be sent.
    case httpError(String)
}

import Shared

/// What the model asks the outside world to do, as output of ``ChatModel/handle(_:)``. The model
/// never performs I/O itself: the Net layer sends frames and runs file transfers, the screen rings
/// the bell and quits.
enum ChatEffect: Equatable, Sendable {
    /// Send a frame on the WebSocket (only emitted while online).
    case send(ClientFrame)
    /// Open the WebSocket now (answered by `.connected` then `welcome`, or `.disconnected`).
    case connect
    /// `GET /api/files`, answered by ``ChatEvent/fileList(_:)`` or ``ChatEvent/httpError(_:)``.
    case fetchFiles
    /// `PUT /api/files/{name}` with the content of the local file, streamed; progress and the end
    /// come back as ``ChatEvent/transferProgress(id:bytes:total:)`` and ``ChatEvent/transferFinished(id:_:)``.
    case upload(id: Int, localPath: String, name: String)
    /// `GET /api/files/{name}` into `destination`, streamed. A destination that is an existing
    /// directory (or ends in `/`) means the file keeps its name inside it; `~` is the home directory.
    /// Unless `replace`, an existing local file is not touched: the answer is then
    /// ``ChatEvent/downloadTargetExists(id:path:)``, and the user is asked.
    case download(id: Int, name: String, destination: String, replace: Bool = false)
    /// `DELETE /api/files/{name}`. Success shows as the server's `file` event; failure as `.httpError`.
    case delete(name: String)
    /// List the local paths that complete `partial` (the upload and download prompts), answered by
    /// ``ChatEvent/pathCompletions(partial:candidates:)``.
    case completePath(String)
    case bell
    /// Repaint the whole terminal (Ctrl-L), not just what changed.
    case redraw
    /// Restore the terminal and exit.
    case quit
}

import Shared

/// Why a request to chatd did not succeed, with what the user needs to read and the exit status a
/// script gets for it.
enum ChatAPIError: Error, CustomStringConvertible, Equatable {
    /// chatd answered with an error: its status, the protocol's code and its message.
    case server(status: Int, code: String, message: String)
    /// No answer: the server is down, unreachable, or the connection broke.
    case unreachable(String)
    /// A local file could not be read or written.
    case local(String)

    var description: String {
        switch self {
        case .server(_, _, let message): message
        case .unreachable(let detail): "cannot reach the server: \(detail)"
        case .local(let detail): detail
        }
    }

    /// The exit status of a script subcommand that failed this way (documented in chat-tui(1)).
    var exitStatus: Int32 {
        switch self {
        case .unreachable: 2
        case .server(let status, _, _):
            switch status {
            case 401, 429: 3
            case 404: 4
            case 403, 409: 5
            case 413, 507: 6
            default: 1
            }
        case .local: 7
        }
    }
}

import Shared

/// Why a request to chatd did not succeed, with what the user needs to read and the exit status a
/// script gets for it.
enum ChatAPIError: Error, CustomStringConvertible, Equatable {
    /// chatd answered with an error: its status, the protocol's code and its message.
    case server(status: Int, code: String, message: String)
    /// No answer: the server is down, unreachable, or the connection broke; the message says
    /// which server and why in a few words (`cannot reach http://…: connection refused`).
    case unreachable(String)
    /// Under open registration, a login with `"register": false` for a name that has no account
    /// (`no_account`): most likely a mistyped `--user`, so nothing was created.
    case noAccount(user: String, server: String)
    /// A local file could not be read or written.
    case local(String)

    var description: String {
        switch self {
        case .server(_, _, let message): message
        case .unreachable(let detail): detail
        case .noAccount(let user, let server):
            "no account '\(user)' at \(server): check --user, or add --register to create it"
        case .local(let detail): detail
        }
    }

    /// The exit status of a script subcommand that failed this way (documented in chat-tui(1)).
    var exitStatus: Int32 {
        // 2 unreachable, 3 login (no account included), 4 missing, 5 not allowed, 6 too large, 7 local.
        switch self {
        case .unreachable: 2
        case .noAccount: 3
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

import Shared

/// Why the file area refused something; each door maps it to its own status or reply code.
package enum FileError: Error, Equatable {
    /// The name breaks a rule (HTTP 400, FTP 553).
    case invalidName(ProtocolError)
    case notFound(String)
    /// The name belongs to another user: uploads are refused (HTTP 409, FTP 550).
    case ownedByAnother(name: String, owner: String)
    /// Only the owner may delete (HTTP 403, FTP 550).
    case notOwner(name: String, owner: String)
    case tooLarge(limit: Int64)
    case quotaExceeded(quota: Int64)
    /// A resumed upload (FTP `REST` before `STOR`) starting past the end of the stored file.
    case invalidOffset(requested: Int64, size: Int64)
    /// The disk holding the data directory (or the database) is full (HTTP 507, FTP 452).
    case storageFull
    /// The disk or the database failed; the message is for the log, not the client.
    case storage(String)

    package var protocolError: ProtocolError {
        switch self {
        case .invalidName(let error): error
        case .notFound(let name): ProtocolError(.notFound, "no file named '\(name)'")
        case .ownedByAnother(let name, let owner): ProtocolError(.conflict, "'\(name)' belongs to \(owner); choose another name")
        case .notOwner(let name, let owner): ProtocolError(.forbidden, "'\(name)' belongs to \(owner); only its owner may change it")
        case .tooLarge(let limit): ProtocolError(.tooLarge, "the file is larger than the limit of \(ByteSize.text(limit))")
        case .quotaExceeded(let quota): ProtocolError(.quotaExceeded, "the upload would pass your quota of \(ByteSize.text(quota))")
        case .invalidOffset(let requested, let size):
            ProtocolError(.rangeNotSatisfiable, "cannot resume at byte \(requested): the stored file has \(size) bytes")
        case .storageFull: ProtocolError.storageFull(refusing: "file")
        case .storage: ProtocolError(.internal, "the file could not be stored")
        }
    }
}

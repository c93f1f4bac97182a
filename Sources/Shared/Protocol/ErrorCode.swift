/// The `code` of an `error` frame or of an HTTP error body.
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    case badRequest = "bad_request"
    case unknownType = "unknown_type"
    case tooLong = "too_long"
    case empty
    case unknownUser = "unknown_user"
    case rateLimited = "rate_limited"
    case unauthorized
    case forbidden
    case notFound = "not_found"
    /// File area: the name belongs to another user (HTTP 409, FTP 550).
    case conflict
    /// File area: over `--max-file-size` (HTTP 413, FTP 552).
    case tooLarge = "too_large"
    /// File area: over the owner's `--quota` (HTTP 507, FTP 552).
    case quotaExceeded = "quota_exceeded"
    /// File area: a `Range` that lies outside the file (HTTP 416).
    case rangeNotSatisfiable = "range_not_satisfiable"
    /// Login with `"register": false` under open registration: the name has no account. Only
    /// then, since open registration lets anyone learn which names exist by registering them.
    case noAccount = "no_account"
    /// The data directory's disk is full: a message or upload was refused and nothing else
    /// changed (HTTP 507, FTP 452).
    case storageFull = "storage_full"
    case `internal`
}

/// A refused request: what the client sent wrong, in words a person can act on.
public struct ProtocolError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `storage_full`: `what` ("message", "file") was refused because the server's disk is full.
    public static func storageFull(refusing what: String) -> ProtocolError {
        ProtocolError(.storageFull, "the server's disk is full; the \(what) was not stored")
    }
}

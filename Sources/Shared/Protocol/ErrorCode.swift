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
}

/// A file in the shared area as clients see it (`GET /api/files`, `file` events, upload answers).
public struct FileInfo: Codable, Equatable, Sendable {
    public var name: String
    public var owner: String
    public var size: Int64
    /// RFC 3339 UTC with milliseconds.
    public var uploadedAt: String
    /// Lowercase hex SHA-256 of the content.
    public var sha256: String

    public init(name: String, owner: String, size: Int64, uploadedAt: String, sha256: String) {
        self.name = name
        self.owner = owner
        self.size = size
        self.uploadedAt = uploadedAt
        self.sha256 = sha256
    }

    enum CodingKeys: String, CodingKey {
        case name, owner, size, sha256
        case uploadedAt = "uploaded_at"
    }
}

/// A change to the file area, sent to every session as a `file` frame.
public struct FileEvent: Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case added, replaced, deleted }
    public var event: Kind
    public var file: FileInfo
    /// The user who made the change.
    public var by: String

    public init(event: Kind, file: FileInfo, by: String) {
        self.event = event
        self.file = file
        self.by = by
    }
}

/// `{"files": [...]}`, the answer of `GET /api/files`.
public struct FileListResponse: Codable, Sendable {
    public var files: [FileInfo]

    public init(files: [FileInfo]) {
        self.files = files
    }
}

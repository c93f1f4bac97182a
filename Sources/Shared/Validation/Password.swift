/// The rule for passwords (PROTOCOL.md §1): 8–1024 bytes of UTF-8.
public enum Password {
    public static let byteRange = 8...1024

    public static func validate(_ password: String) -> Result<String, ProtocolError> {
        let count = password.utf8.count
        if count < byteRange.lowerBound {
            return .failure(ProtocolError(.badRequest, "password must be at least \(byteRange.lowerBound) bytes"))
        }
        if count > byteRange.upperBound {
            return .failure(ProtocolError(.badRequest, "password must be at most \(byteRange.upperBound) bytes"))
        }
        return .success(password)
    }
}

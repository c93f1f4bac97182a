import Foundation

/// How to answer a download's `Range` header (RFC 9110 §14), as a pure function of the header
/// and the file size. Only single ranges are served; a multi-range or malformed header is
/// ignored and the whole file sent, as the RFC allows.
public enum ByteRangeRequest: Equatable {
    case full
    case partial(ClosedRange<Int64>)
    case unsatisfiable

    public static func evaluate(_ header: String?, size: Int64) -> ByteRangeRequest {
        guard let header else { return .full }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .full }
        let spec = trimmed.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .full }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            // suffix range: the last N bytes
            guard let count = Int64(last), count >= 0 else { return .full }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - count)...(size - 1))
        }
        guard let start = Int64(first), start >= 0 else { return .full }
        let end: Int64
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = Int64(last), value >= start else { return .full }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }
}

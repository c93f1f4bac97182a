import FuzzSupport
import HTTPParsing

/// Fuzzes ``ByteRangeRequest/evaluate(_:size:)``, which turns a download's `Range` header into the
/// bytes to send. The input chooses the file size (small or any up to `Int64.max`) and whether a
/// header is sent; the rest is the header, as UTF-8.
///
/// Properties:
/// - no header is the whole file;
/// - a partial answer lies within the file: `0 <= first <= last < size`;
/// - a header that is exactly one RFC 9110 range (`bytes=a-b`, `bytes=a-`, `bytes=-n`, digits only,
///   the unit in any case, optional blanks around the whole) gets RFC 9110 §14.1.2's answer: the
///   range clipped to the file, 416 when it starts at or past the end (or is a suffix of 0 bytes,
///   or the file is empty), and the whole file for `a-b` with `b < a`, which is invalid.
@main enum FuzzByteRange {
    static func main() { runLibFuzzer(fuzz) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = inputBytes(start, count)
    var reader = FuzzReader(input)
    let mode = reader.byte()
    let size = mode & 1 == 0 ? Int64(reader.byte()) : Int64(bitPattern: reader.uint64() & UInt64(Int64.max))
    let header: String? = mode & 2 == 0 ? String(decoding: reader.rest(), as: UTF8.self) : nil
    let answer = ByteRangeRequest.evaluate(header, size: size)

    if header == nil {
        check(answer == .full, "no Range header gives \(answer)", input: input)
    }
    if case .partial(let range) = answer {
        check(range.lowerBound >= 0 && range.upperBound < size, "range \(range) outside a file of \(size) bytes", input: input)
    }
    if let header, let expected = rfcAnswer(header, size: size) {
        check(answer == expected, "\(header.debugDescription) on \(size) bytes gives \(answer), RFC 9110 says \(expected)", input: input)
    }
    return 0
}

/// RFC 9110's answer for a header that is exactly one well-formed byte range; `nil` for any other
/// header (multiple ranges, other units, signs, inner blanks, numbers past 18 digits), where the
/// server may ignore the header or read it leniently.
func rfcAnswer(_ header: String, size: Int64) -> ByteRangeRequest? {
    var text = Substring(header)
    while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
    while let last = text.last, last == " " || last == "\t" { text.removeLast() }
    guard text.count > 6, text.prefix(6).lowercased() == "bytes=" else { return nil }
    let spec = text.dropFirst(6)
    let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2 else { return nil }
    func number(_ digits: Substring) -> Int64? {
        guard (1...18).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }
    switch (parts[0].isEmpty, parts[1].isEmpty) {
    case (true, true):
        return nil
    case (true, false):
        guard let suffix = number(parts[1]) else { return nil }
        guard suffix > 0, size > 0 else { return .unsatisfiable }
        return .partial(max(0, size - suffix)...(size - 1))
    case (false, let open):
        guard let first = number(parts[0]) else { return nil }
        var last = size - 1
        if !open {
            guard let value = number(parts[1]) else { return nil }
            guard value >= first else { return .full }
            last = min(value, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .partial(first...last)
    }
}

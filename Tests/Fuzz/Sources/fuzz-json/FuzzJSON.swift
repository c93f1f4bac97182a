import Foundation
import FuzzSupport
import Shared

/// Fuzzes ``JSONParser``, the first code to read every WebSocket text frame, against Foundation.
///
/// Properties, beyond not crashing:
/// - what it accepts is UTF-8 (after an optional byte-order mark), nested at most `maxDepth` deep;
/// - it accepts exactly what `JSONSerialization` accepts, for UTF-8 without NUL bytes (with NULs
///   Foundation guesses UTF-16 or UTF-32, which no WebSocket text frame is). The one deliberate
///   difference: nesting deeper than ``JSONParser/maxDepth`` is refused;
/// - what both it and `JSONDecoder` (through which client frames went before) accept, they read
///   to the same `JSONValue`. Acceptance is not compared with `JSONDecoder`: it refuses some
///   numbers that `JSONSerialization` and the RFC take (`0e2`, `1e-400`; JSONParserTests), and it
///   takes a raw control character in a string it skips (the value of a repeated key), which the
///   RFC and `JSONSerialization` refuse;
/// - a value it read, written back as JSON, reads back as the same value.
@main enum FuzzJSON {
    static func main() { runLibFuzzer(fuzz) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = inputBytes(start, count)
    let ours = try? JSONParser.parse(bytes)
    let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    let isUTF8 = String(validating: text, as: UTF8.self) != nil

    if let ours {
        check(isUTF8, "accepted bytes that are not UTF-8", input: bytes)
        check(depth(ours) <= JSONParser.maxDepth, "accepted nesting deeper than maxDepth", input: bytes)
        let written = Array(json(ours).utf8)
        check((try? JSONParser.parse(written)) == ours, "its own value written back reads differently: \(json(ours))", input: bytes)
    }

    guard isUTF8, !bytes.contains(0) else { return 0 }
    let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    switch (ours, foundation) {
    case (nil, let theirs?):
        check(foundationDepth(theirs) > JSONParser.maxDepth, "refused what JSONSerialization accepts", input: bytes)
    case (_?, nil):
        check(false, "accepted what JSONSerialization refuses", input: bytes)
    default:
        break
    }
    if let ours, let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) {
        check(ours == decoded, "reads another value than JSONDecoder: \(ours) vs \(decoded)", input: bytes)
    }
    return 0
}

/// Nesting depth as the parser counts it: a scalar is 0, `[]` is 1.
func depth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let elements): 1 + (elements.map(depth).max() ?? 0)
    case .object(let members): 1 + (members.values.map(depth).max() ?? 0)
    default: 0
    }
}

func foundationDepth(_ value: Any) -> Int {
    if let elements = value as? [Any] { return 1 + (elements.map(foundationDepth).max() ?? 0) }
    if let members = value as? [String: Any] { return 1 + (members.values.map(foundationDepth).max() ?? 0) }
    return 0
}

/// A minimal JSON writer, independent of the parser, so the round trip checks both directions.
func json(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .number(let number): return "\(number)"
    case .string(let string): return quoted(string)
    case .array(let elements): return "[" + elements.map(json).joined(separator: ",") + "]"
    case .object(let members):
        return "{" + members.map { quoted($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"
    }
}

func quoted(_ string: String) -> String {
    var result = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

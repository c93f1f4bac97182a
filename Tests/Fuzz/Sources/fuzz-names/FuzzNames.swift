import Foundation
import FuzzSupport
import Shared

/// Fuzzes the validators of Shared/Validation, which every door (WebSocket, HTTP, FTP) applies to
/// names and text from clients. The input, decoded as UTF-8 (invalid bytes become U+FFFD, as
/// everywhere a server reads text), goes through all of them.
///
/// Properties, as PROTOCOL.md states the rules:
/// - ``FileName``: an accepted name is NFC, 1–255 bytes of UTF-8, has no `/`, `\`, NUL or other
///   C0/C1 control, is not `.` or `..`, does not begin or end with a space; validating it again
///   gives it back unchanged; and the decomposed spelling of a name is accepted or refused as the
///   name is, as the same name;
/// - ``Username``: 1–32 of `A–Z a–z 0–9 _ . -`, not starting with `.` or `-`; the canonical key is
///   the lower-case name; what a user may register the operator may create;
/// - ``Password``: accepted exactly when it has 8–1024 bytes;
/// - ``MessageText``: the stored text is the input trimmed of white space, 1…limit scalars with no
///   refused control characters, and is stored unchanged when validated again.
@main enum FuzzNames {
    static func main() { runLibFuzzer(fuzz) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = inputBytes(start, count)
    let text = String(decoding: input, as: UTF8.self)
    checkFileName(text, input: input)
    checkUsername(text, input: input)
    checkPassword(text, input: input)
    checkMessageText(text, input: input)
    return 0
}

func checkFileName(_ raw: String, input: [UInt8]) {
    let result = FileName.validate(raw)
    let decomposed = FileName.validate(raw.decomposedStringWithCanonicalMapping)
    check((try? result.get()) == (try? decomposed.get()), "the decomposed spelling is validated differently", input: input)
    guard case .success(let name) = result else { return }
    let scalars = Array(name.unicodeScalars)
    check(Array(name.utf8) == Array(name.precomposedStringWithCanonicalMapping.utf8), "accepted name is not NFC", input: input)
    check((1...FileName.maxBytes).contains(name.utf8.count), "accepted name of \(name.utf8.count) bytes", input: input)
    check(!scalars.contains { $0 == "/" || $0 == "\\" }, "accepted name with a slash or backslash", input: input)
    check(!scalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) },
          "accepted name with a control character", input: input)
    check(name != "." && name != "..", "accepted . or ..", input: input)
    check(scalars.first != " " && scalars.last != " ", "accepted name \(name.debugDescription) beginning or ending with a space", input: input)
    check((try? FileName.validate(name).get()).map { Array($0.utf8) } == Array(name.utf8), "validating the accepted name again changes it", input: input)
}

func checkUsername(_ raw: String, input: [UInt8]) {
    let bytes = Array(raw.utf8)
    let allowed = !bytes.isEmpty && bytes.count <= Username.maxLength
        && bytes[0] != UInt8(ascii: ".") && bytes[0] != UInt8(ascii: "-")
        && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    let accepted = (try? Username.validate(raw).get()) != nil
    check(accepted == allowed, "Username.validate \(accepted ? "accepts" : "refuses") \(raw.debugDescription)", input: input)
    guard accepted else { return }
    check(Username.canonicalKey(raw) == raw.lowercased(), "canonical key \(Username.canonicalKey(raw)) of \(raw)", input: input)
    if (try? Username.checkRegistrable(raw, byOperator: false).get()) != nil {
        check((try? Username.checkRegistrable(raw, byOperator: true).get()) != nil, "a user may register what the operator may not", input: input)
    }
}

func checkPassword(_ raw: String, input: [UInt8]) {
    let accepted = (try? Password.validate(raw).get()) != nil
    check(accepted == (8...1024).contains(raw.utf8.count), "Password.validate on \(raw.utf8.count) bytes", input: input)
}

func checkMessageText(_ raw: String, input: [UInt8]) {
    for limit in [1, 3, ProtocolLimits.defaultMessageChars] {
        guard case .success(let text) = MessageText.validate(raw, maxScalars: limit) else { continue }
        let scalars = Array(text.unicodeScalars)
        check(!scalars.isEmpty && scalars.count <= limit, "stored message of \(scalars.count) scalars, limit \(limit)", input: input)
        check(!scalars.first!.properties.isWhitespace && !scalars.last!.properties.isWhitespace, "stored message not trimmed", input: input)
        check(!scalars.contains(where: MessageText.isRefusedControl), "stored message with a refused control character", input: input)
        let trimmed = Array(raw.unicodeScalars.drop(while: \.properties.isWhitespace).reversed().drop(while: \.properties.isWhitespace).reversed())
        check(scalars == trimmed, "stored message is not the input trimmed", input: input)
        check((try? MessageText.validate(text, maxScalars: limit).get()).map { Array($0.unicodeScalars) } == scalars,
              "validating the stored message again changes it", input: input)
    }
}

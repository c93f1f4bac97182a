import FTPProtocol
import FuzzSupport

/// What every reply the server can send must satisfy, whatever the client sent before: a code
/// from 100 to 599, and a wire form the client reads as exactly this one reply. Client text is
/// echoed into replies (verbs, paths), so a CR or LF left in it, or an inner line that starts with
/// the code and a space, would let a client forge a reply of its own.
///
/// Shared by the FTP harnesses.
public func checkReply(_ reply: FTPReply, input: [UInt8]) {
    check((100...599).contains(reply.code), "reply code \(reply.code)", input: input)
    let text = reply.text
    let wire = Array(text.utf8)
    check(wire.suffix(2) == [0x0D, 0x0A], "reply does not end in CRLF: \(text.debugDescription)", input: input)
    var lines: [ArraySlice<UInt8>] = []
    var rest = wire.dropLast(2)
    while let cr = rest.firstIndex(of: 0x0D), rest.index(after: cr) < rest.endIndex, rest[rest.index(after: cr)] == 0x0A {
        lines.append(rest[..<cr])
        rest = rest[(cr + 2)...]
    }
    lines.append(rest)
    check(lines.count == reply.lines.count, "reply of \(reply.lines.count) lines sent as \(lines.count)", input: input)
    for line in lines {
        check(!line.contains(0x0D) && !line.contains(0x0A) && !line.contains(0),
              "bare CR, LF or NUL in a reply line: \(text.debugDescription)", input: input)
    }
    let code = Array(String(reply.code).utf8)
    check(lines.last!.starts(with: code + [0x20]), "last line does not start with the code and a space: \(text.debugDescription)", input: input)
    guard lines.count > 1 else { return }
    check(lines[0].starts(with: code + [0x2D]), "multi-line reply does not start with the code and '-'", input: input)
    for line in lines.dropFirst().dropLast() {
        check(!(line.first.map { (0x30...0x39).contains($0) } ?? false),
              "an inner line starts with a digit, as the end of a reply does: \(text.debugDescription)", input: input)
    }
}

import Testing
import HTTPParsing


@Suite("Multipart header guard")
struct MultipartHeaderGuardTests {
    /// Feeds `body` in chunks of every size from 1 up, so a state carried across chunks is tested too.
    func admitted(_ body: [UInt8], boundary: String = "XyZ") -> Bool {
        var verdicts = Set<Bool>()
        for size in 1...max(1, body.count) {
            var guardian = MultipartHeaderGuard(boundary: boundary)
            var admitted = true
            var index = 0
            while index < body.count, admitted {
                admitted = guardian.admit(body[index..<min(index + size, body.count)])
                index += size
            }
            verdicts.insert(admitted)
        }
        #expect(verdicts.count == 1, "the verdict must not depend on how the body is split")
        return verdicts.first!
    }

    @Test func aNonASCIIByteInAHeaderNameIsRefusedWhereverItIs() {
        let first = Array("--XyZ\r\nContent-D".utf8) + [0xE9] + Array("sposition: x\r\n\r\nhi\r\n--XyZ--\r\n".utf8)
        #expect(!admitted(first))
        let second = Array("--XyZ\r\nA: b\r\n\r\nhi\r\n--XyZ\r\nX".utf8) + [0xFF] + Array(": y\r\n\r\n\r\n--XyZ--".utf8)
        #expect(!admitted(second))
        let preamble = Array("ignored\r\n--XyZ\r\n".utf8) + [0x80]
        #expect(!admitted(preamble))
    }

    @Test func nonASCIIBytesElsewhereAreLeftToTheParser() {
        let body = [0xC3, 0xA9] + Array("\r\n--XyZ\r\nContent-Disposition: form-data; filename=\"caf".utf8) + [0xC3, 0xA9]
            + Array("\"\r\n\r\n".utf8) + [0x80, 0xFF, 0x0D, 0x0A, 0x2D] + Array("\r\n--XyZ--\r\n".utf8) + [0xFF]
        #expect(admitted(body))
        // where the parser throws (a byte it does not allow in a header name) the guard stops,
        // so what follows is the parser's refusal, not the guard's
        let parserRefusesFirst = Array("--XyZ\r\nA\u{0}B".utf8) + [0xE9] + Array(": x\r\n\r\n".utf8)
        #expect(admitted(parserRefusesFirst))
        // a near-miss of the delimiter inside content stays content
        let nearMiss = Array("--XyZ\r\nA: b\r\n\r\n\r\n--XyQ".utf8) + [0xE9] + Array("\r\n--XyZ--".utf8)
        #expect(admitted(nearMiss))
    }

    @Test func boundariesFollowRFC2046() {
        #expect(MultipartUpload.isValidBoundary("----WebKitFormBoundary7MA4YWxkTrZu0gW"))
        #expect(MultipartUpload.isValidBoundary("a"))
        #expect(!MultipartUpload.isValidBoundary(""))
        #expect(!MultipartUpload.isValidBoundary(String(repeating: "a", count: 71)))
        #expect(!MultipartUpload.isValidBoundary("ends "))
        #expect(!MultipartUpload.isValidBoundary("caf\u{E9}"))
        #expect(!MultipartUpload.isValidBoundary("a\r\nb"))
    }
}

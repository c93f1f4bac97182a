import Shared
import Testing

@Suite("File name rules")
struct FileNameTests {
    @Test(arguments: ["a.txt", "report 2026.pdf", ".hidden", "ünïcödé", "x" + String(repeating: "y", count: 254), "..a", "a..b"])
    func accepted(name: String) {
        #expect((try? FileName.validate(name).get()) == name)
    }

    @Test(arguments: ["", ".", "..", "a/b", "a\\b", "a\u{0}b", "a\u{1}b", "a\u{7F}b", "a\u{85}b", " lead", "trail ",
                      String(repeating: "y", count: 256), String(repeating: "é", count: 128)])
    func refused(name: String) {
        #expect(throws: ProtocolError.self) { try FileName.validate(name).get() }
    }

    @Test func normalisedToNFC() throws {
        let decomposed = "e\u{301}.txt"
        let stored = try FileName.validate(decomposed).get()
        #expect(stored == "\u{E9}.txt")
        #expect(Array(stored.utf8) == [0xC3, 0xA9, 0x2E, 0x74, 0x78, 0x74])
    }

    @Test func limitCountsBytesAfterNormalisation() {
        // 127 decomposed é are 381 bytes, but 254 once composed
        #expect((try? FileName.validate(String(repeating: "e\u{301}", count: 127)).get()) != nil)
    }
}

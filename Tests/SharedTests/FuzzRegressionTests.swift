import Shared
import Testing

/// Inputs the fuzzers (Tests/Fuzz, `make fuzz`) found to break Shared, kept as tests.
@Suite("Fuzz regressions (Shared)")
struct SharedFuzzRegressionTests {
    /// fuzz-names: a name starting with a space followed by a combining mark passed, because the
    /// space and the mark are one Character and `hasPrefix(" ")` compares Characters. The same
    /// at the end, for a space after a prepended mark (U+0600 joins the next scalar's Character).
    @Test(arguments: [" \u{301}accent-after-space", " \u{20DD}", "x\u{600} ", "\u{600} "])
    func spaceHiddenInACharacterIsRefused(name: String) {
        #expect(throws: ProtocolError.self) { try FileName.validate(name).get() }
    }

    @Test func accentAfterAnInnerSpaceIsKept() throws {
        #expect(try FileName.validate("a \u{301}b").get() == "a \u{301}b")
    }
}

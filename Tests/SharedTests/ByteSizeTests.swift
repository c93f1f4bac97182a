import Testing

@testable import Shared

/// Sizes in the unit operators write them (PROTOCOL.md §6: K, M, G are powers of 1024).
@Suite("Byte sizes")
struct ByteSizeTests {
    @Test func parsesSuffixesInAnyCase() {
        #expect(ByteSize.parse("1048576") == 1_048_576)
        #expect(ByteSize.parse("512k") == 524_288)
        #expect(ByteSize.parse(" 100M ") == 104_857_600)
        #expect(ByteSize.parse("1G") == 1_073_741_824)
        #expect(ByteSize.parse("0") == 0)
    }

    @Test func refusesWhatIsNotASize() {
        for text in ["", "M", "-1", "+5", "1.5G", "1T", "1 M", "ten", "9223372036854775807K"] {
            #expect(ByteSize.parse(text) == nil, "\(text)")
        }
    }

    @Test func writesTheShortestExactSpelling() {
        #expect(ByteSize.text(1 << 20) == "1M")
        #expect(ByteSize.text(1 << 30) == "1G")
        #expect(ByteSize.text(1536 * 1024) == "1536K")
        #expect(ByteSize.text(1500) == "1500 bytes")
        #expect(ByteSize.text(1) == "1 byte")
        #expect(ByteSize.text(0) == "0 bytes")
    }

    @Test func roundTrips() {
        for text in ["1M", "1536K", "3G", "100"] {
            let bytes = ByteSize.parse(text)!
            let written = ByteSize.text(bytes).split(separator: " ")[0]
            #expect(ByteSize.parse(String(written)) == bytes)
        }
    }
}

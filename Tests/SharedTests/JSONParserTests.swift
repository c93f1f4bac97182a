import Foundation
import Shared
import Testing

/// The hand-written parser against Foundation's `JSONDecoder`, which client frames went through
/// before: both must accept the same texts and read the same values.
@Suite("JSON parser")
struct JSONParserTests {
    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static func ours(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes)
    }

    static let corpus: [String] = [
        #"{"type":"broadcast","message":"hi","client_id":"c1"}"#,
        #"{"type":"direct","to":"bob","message":"line\nbreak \"quoted\" \\ \/ \b\f\r\t tab"}"#,
        #"{"message":"\u00e9\u4e2d\ud83d\ude00 é 中 😀"}"#,
        #"  { "a" : [ 1 , -2.5 , 3e2 , 4E-2 , 0 , -0 , 0.0 , 1e+2 ] , "b" : { } , "c" : [ ] }  "#,
        #"{"n":null,"t":true,"f":false}"#, #"{"a":{"b":{"c":[[[]]]}}}"#, #"{"dup":1,"dup":2}"#,
        "[]", "{}", "1", "-1", "\"s\"", "true", "null", "0", "12345678901234567890", "1.7976931348623157e308",
        "1e400", "-1e400", "01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "NaN", "Infinity",
        "", " ", "{", "}", "[", "]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\" 1}",
        "{'a':1}", "{a:1}", "\"unterminated", "\"bad escape \\x\"", "\"\\u12\"", "\"\\u12G4\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud83d\\ude00\"", "\"tab\there\"", "\"nl\nhere\"",
        "tru", "nul", "falsey", "[1] [2]", "{} x", "\u{FEFF}{}", "[1,2", "{\"a\":[1,{\"b\":2}]}",
        "\"\\/\"", "[\"\\u0000\"]", "1 2", "[-]", "[--1]", "[1e5.5]", "[0.1e-7]", "[-0.0e0]",
    ]

    @Test(arguments: corpus)
    func agreesWithFoundation(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(Self.ours(bytes) == Self.foundation(bytes), "\(text)")
    }

    @Test func agreesOnMutatedFrames() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array(#"{}[]":,\ -+.eE0123456789abfnrtu"#.utf8)
        var compared = 0
        for base in Self.corpus where Self.foundation(Array(base.utf8)) != nil {
            for _ in 0..<300 {
                var bytes = Array(base.utf8)
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let index = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0 where !bytes.isEmpty: bytes.remove(at: index)
                    case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: index)
                    default: if !bytes.isEmpty { bytes[index] = alphabet.randomElement(using: &generator)! }
                    }
                }
                guard String(validating: bytes, as: UTF8.self) != nil else { continue }
                let (ours, theirs) = (Self.ours(bytes), Self.foundation(bytes))
                if ours != nil, theirs == nil, Self.hasExponent(bytes) { continue }  // see exponentsFoundationRefuses
                #expect(ours == theirs, "\(String(decoding: bytes, as: UTF8.self))")
                compared += 1
            }
        }
        #expect(compared > 3000)
    }

    /// Foundation refuses some numbers RFC 8259 allows (`0e2`, `-0.0e02`, while it takes `0e02`);
    /// this parser follows the RFC. Only integer fields read numbers, and these are all zero.
    @Test func exponentsFoundationRefuses() throws {
        #expect(Self.foundation(Array("[0e2]".utf8)) == nil, "if Foundation changes, the exception in agreesOnMutatedFrames can go")
        #expect(try JSONParser.parse(Array("[0e2]".utf8)) == .array([.number(0)]))
        #expect(try JSONParser.parse(Array("[-0.0e02]".utf8)) == .array([.number(0)]))
    }

    static func hasExponent(_ bytes: [UInt8]) -> Bool {
        zip(bytes, bytes.dropFirst()).contains { (48...57).contains($0.0) && ($0.1 == UInt8(ascii: "e") || $0.1 == UInt8(ascii: "E")) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(Self.ours([0x22, 0xFF, 0x22]) == nil)
        #expect(Self.ours([0x22, 0x5C, 0x6E, 0xC3, 0x22]) == nil)
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(Self.ours(Array(deep.utf8)) == nil, "refused, not a stack overflow")
        let fine = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(Self.ours(Array(fine.utf8)) != nil)
    }
}

/// SplitMix64: reproducible random inputs.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How many terminal columns a character takes, the way current terminals (xterm, VTE, tmux, kitty)
/// draw it: East Asian wide and fullwidth characters and emoji take 2, combining marks and format
/// characters (zero-width joiner, variation selectors) take 0 because they attach to the character
/// before them, everything else 1. Measured per `Character` (extended grapheme cluster), so an emoji
/// ZWJ sequence, a flag or a letter with its accents counts once.
///
/// Swift exposes no East Asian Width property, so the wide ranges are a table of the main blocks
/// (CJK, Hangul, kana, fullwidth forms); emoji come from the `Emoji_Presentation` property instead,
/// which also covers the pictographs that the table leaves out.
enum TerminalWidth {
    static func columns(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let base = scalars.first else { return 0 }
        // Emoji drawn as pictures are 2 wide: those that default to it (Emoji_Presentation, which
        // Unicode also makes East Asian Wide, so VS15 cannot narrow them), anything holding one
        // (ZWJ sequences, skin tones, flags), and text-default emoji asked for as pictures by VS16.
        let picture = scalars.contains { $0.properties.isEmojiPresentation }
            || (scalars.contains("\u{FE0F}") && base.properties.isEmoji)
        return picture ? 2 : columns(of: base)
    }

    /// The width of one scalar standing alone (or as the base of its cluster).
    static func columns(of scalar: Unicode.Scalar) -> Int {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control, .lineSeparator, .paragraphSeparator:
            return 0
        default:
            break
        }
        let value = scalar.value
        // Hangul medial vowels and final consonants join the initial consonant before them.
        if (0x1160...0x11FF).contains(value) || (0xD7B0...0xD7FF).contains(value) { return 0 }
        return isWide(value) ? 2 : 1
    }

    static func columns(of text: some StringProtocol) -> Int {
        text.reduce(0) { $0 + columns(of: $1) }
    }

    /// East Asian Width W or F (UAX #11), the main blocks, sorted for binary search.
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F,    // Hangul Jamo initial consonants
        0x2329...0x232A,    // angle brackets
        0x2E80...0x303E,    // CJK radicals, Kangxi radicals, ideographic description, CJK symbols and punctuation
        0x3041...0x33FF,    // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed and compatibility
        0x3400...0x4DBF,    // CJK extension A
        0x4E00...0x9FFF,    // CJK unified ideographs
        0xA000...0xA4CF,    // Yi
        0xA960...0xA97F,    // Hangul Jamo extended A
        0xAC00...0xD7A3,    // Hangul syllables
        0xF900...0xFAFF,    // CJK compatibility ideographs
        0xFE10...0xFE19,    // vertical forms
        0xFE30...0xFE6F,    // CJK compatibility forms, small form variants
        0xFF00...0xFF60,    // fullwidth forms
        0xFFE0...0xFFE6,    // fullwidth signs
        0x16FE0...0x16FE4,  // ideographic symbols
        0x17000...0x18CFF,  // Tangut, Khitan
        0x1B000...0x1B2FF,  // Kana supplement and extensions, Nushu
        0x1F200...0x1F2FF,  // enclosed ideographic supplement
        0x20000...0x2FFFD,  // CJK extensions B–F, compatibility supplement
        0x30000...0x3FFFD,  // CJK extensions G–H
    ]

    static func isWide(_ value: UInt32) -> Bool {
        var low = 0
        var high = wideRanges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let range = wideRanges[middle]
            if value < range.lowerBound {
                high = middle - 1
            } else if value > range.upperBound {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }
}

import Shared

/// A stable colour for each sender: the same name gets the same colour in every run and on every
/// machine. Swift's `hashValue` is seeded per process, so this is FNV-1a over the name's canonical
/// (case-folded) spelling, which also gives `Alice` and `alice`, one account, one colour.
enum UserColor {
    static func index(for name: String, paletteSize: Int) -> Int {
        guard paletteSize > 0 else { return 0 }
        var hash: UInt32 = 2_166_136_261
        for byte in Username.canonicalKey(name).utf8 {
            hash ^= UInt32(byte)
            hash &*= 16_777_619
        }
        return Int(hash % UInt32(paletteSize))
    }
}

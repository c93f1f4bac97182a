import CLibFuzzer

#if canImport(Glibc)
import Glibc
#endif

/// The libFuzzer entry point of every harness: the input's bytes, and 0 (libFuzzer reserves other
/// results).
public typealias TestOneInput = @convention(c) (_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt

/// Runs libFuzzer on `testOneInput` with the process's arguments.
///
/// SwiftPM gives an executable the `main` of its entry point (renamed per target and aliased with
/// `--defsym`), and that one wins over the `main` in libFuzzer's runtime; without a `@main` the
/// program would be an empty `main` that exits at once. So each harness has a `@main` that calls this.
public func runLibFuzzer(_ testOneInput: TestOneInput) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// The input as an array (libFuzzer passes a null pointer for the empty input on some paths).
public func inputBytes(_ start: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: start, count: count))
}

/// A property that failed: stops the run so that libFuzzer saves the input as a crash, with the
/// message and the input (escaped) in the report.
public func check(_ condition: Bool, _ message: @autoclosure () -> String, input: [UInt8]) {
    guard !condition else { return }
    fatalError("property failed: \(message())\ninput: \(String(decoding: input, as: UTF8.self).debugDescription)")
}

/// Reads structured choices off the front of a fuzzer input (like LLVM's FuzzedDataProvider), so
/// that mutations of the bytes become mutations of the choices. Past the end every read gives 0.
public struct FuzzReader {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    public var isEmpty: Bool { bytes.isEmpty }

    public mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// A value in `0..<bound` (`bound` at most 256), from one byte.
    public mutating func choice(_ bound: Int) -> Int {
        Int(byte()) % bound
    }

    public mutating func bool() -> Bool {
        byte() & 1 == 1
    }

    /// An unsigned integer from up to eight bytes, little-endian.
    public mutating func uint64(bytes count: Int = 8) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { value, index in value | UInt64(byte()) << (8 * UInt64(index)) }
    }

    /// The next `count` bytes, or fewer at the end.
    public mutating func take(_ count: Int) -> [UInt8] {
        let taken = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return Array(taken)
    }

    /// A length-prefixed chunk: one byte of length, then that many bytes.
    public mutating func chunk() -> [UInt8] {
        take(Int(byte()))
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}

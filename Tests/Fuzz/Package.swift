// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for chatd's parsers of untrusted input (`make fuzz`, Tests/e2e/test_fuzz.py).
//
// A package of its own so that a fuzzer builds only the parser it tests, not the libraries'
// dependencies (swift-crypto, NIOSSL, Hummingbird): each fuzzer compiles the door files it needs
// through relative symlinks in its source folder, Shared through a symlink to Sources/Shared,
// and a small ChatCore of the file types those files use (StoredFile.swift) and stand-ins.
// It is only meant to be built with
// `-sanitize=fuzzer,address` (Tests/Fuzz/fuzz.sh), which links libFuzzer into each executable:
// a harness's `@main` hands its `LLVMFuzzerTestOneInput` to libFuzzer's driver (FuzzSupport).
//
// The dependencies are chatd's, with the same URLs and lower bounds as the root Package.swift.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")

func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: swiftSettings)
}

let package = Package(
    name: "chatd-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
    ],
    targets: [
        .target(name: "Shared", swiftSettings: swiftSettings),
        .target(name: "ChatCore", dependencies: ["Shared", nioCore], swiftSettings: swiftSettings),
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], swiftSettings: swiftSettings),
        fuzzer("fuzz-json", ["Shared"]),
        fuzzer("fuzz-client-frame", ["Shared"]),
        fuzzer("fuzz-names", ["Shared"]),
        fuzzer("fuzz-byte-range", []),
        fuzzer("fuzz-ftp-command", [nioCore]),
        fuzzer("fuzz-ftp-lines", [nioCore, .product(name: "NIOEmbedded", package: "swift-nio")]),
        fuzzer("fuzz-ftp-session", ["Shared", "ChatCore", nioCore]),
        fuzzer("fuzz-multipart", [
            "Shared",
            "ChatCore",
            nioCore,
            .product(name: "MultipartKit", package: "multipart-kit"),
        ]),
    ]
)

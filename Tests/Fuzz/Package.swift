// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for chatd's parsers of untrusted input (`make fuzz`, Tests/e2e/test_fuzz.py).
//
// A package of its own, because it is only meant to be built with `-sanitize=fuzzer,address`
// (Tests/Fuzz/fuzz.sh), which links libFuzzer into each executable: a harness's `@main` hands
// its `LLVMFuzzerTestOneInput` to libFuzzer's driver (FuzzSupport). The harnesses import chatd's
// parser libraries (Shared, FTPProtocol, HTTPParsing) from the package two folders up; those
// depend on NIOCore and multipart-kit only, so a fuzzer build compiles none of the servers'
// packages (Hummingbird, swift-crypto, NIOSSL, the database drivers).

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let shared: Target.Dependency = .product(name: "Shared", package: "chatd")
let ftpProtocol: Target.Dependency = .product(name: "FTPProtocol", package: "chatd")
let httpParsing: Target.Dependency = .product(name: "HTTPParsing", package: "chatd")

func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: swiftSettings)
}

let package = Package(
    name: "chatd-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "chatd", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], swiftSettings: swiftSettings),
        .target(name: "FTPReplyChecks", dependencies: ["FuzzSupport", ftpProtocol], swiftSettings: swiftSettings),
        fuzzer("fuzz-json", [shared]),
        fuzzer("fuzz-client-frame", [shared]),
        fuzzer("fuzz-names", [shared]),
        fuzzer("fuzz-byte-range", [httpParsing]),
        fuzzer("fuzz-ftp-command", ["FTPReplyChecks", ftpProtocol, nioCore]),
        fuzzer("fuzz-ftp-lines", [ftpProtocol, nioCore, .product(name: "NIOEmbedded", package: "swift-nio")]),
        fuzzer("fuzz-ftp-session", ["FTPReplyChecks", ftpProtocol, nioCore]),
        fuzzer("fuzz-multipart", [httpParsing, shared, nioCore]),
    ]
)

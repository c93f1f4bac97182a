// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

// Products several targets use, each spelled once.
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let nioFileSystem: Target.Dependency = .product(name: "_NIOFileSystem", package: "swift-nio")
let nioWebSocket: Target.Dependency = .product(name: "NIOWebSocket", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let hummingbirdWSClient: Target.Dependency = .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
let nioHTTPTypesHTTP1: Target.Dependency = .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")

let package = Package(
    name: "chatd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chatd", targets: ["chatd"]),
        .executable(name: "chat-tui", targets: ["chat-tui"]),
        .executable(name: "chat-bench", targets: ["chat-bench"]),
        .library(name: "Shared", targets: ["Shared"]),
        // The parsers of untrusted input, as libraries of their own so that the fuzzers
        // (Tests/Fuzz, a package of its own) import them without building the servers' packages.
        .library(name: "FTPProtocol", targets: ["FTPProtocol"]),
        .library(name: "HTTPParsing", targets: ["HTTPParsing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "Shared",
            swiftSettings: swiftSettings
        ),
        // The domain and every policy: accounts, chat, files, the store protocols, the cluster's
        // delivery loop. No HTTP server, no NIO listener, no database driver: the compiler keeps
        // every door and store on the outside.
        .target(
            name: "ChatCore",
            dependencies: [
                "Shared",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                logging,
                nioCore,
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                nioPosix,
                nioFileSystem,
                crypto,
                serviceLifecycle,
                metrics,
            ],
            swiftSettings: swiftSettings
        ),
        // The embedded store (GRDB) and the backup of its data directory.
        .target(
            name: "ChatStoreSQLite",
            dependencies: [
                "ChatCore",
                "Shared",
                grdb,
                logging,
                crypto,
            ],
            swiftSettings: swiftSettings
        ),
        // The cluster's store (postgres-nio) and what nodes share through it: presence, the
        // notifications that carry messages and file changes between nodes, lockouts, rate buckets.
        .target(
            name: "ChatStorePostgres",
            dependencies: [
                "ChatCore",
                "Shared",
                postgresNIO,
                logging,
                nioCore,
                nioSSL,
                serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The certificate both TLS doors serve, and its reload on SIGHUP.
        .target(
            name: "ChatTLS",
            dependencies: [
                logging,
                nioCore,
                nioSSL,
                serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP door: the API, file transfers, the WebSocket chat, the browser UI's routes and
        // the metrics listener (Hummingbird).
        .target(
            name: "ChatHTTP",
            dependencies: [
                "ChatCore",
                "HTTPParsing",
                "ChatTLS",
                "Shared",
                hummingbird,
                logging,
                nioCore,
                nioPosix,
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                nioHTTPTypesHTTP1,
                nioHTTP1,
                nioWebSocket,
                nioFileSystem,
                crypto,
                nioSSL,
                metrics,
                .product(name: "Prometheus", package: "swift-prometheus"),
                serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The FTP dialogue without I/O: the command and line parsers, replies, addresses, and
        // the session as a pure state machine. Only NIOCore's byte buffers and addresses.
        .target(
            name: "FTPProtocol",
            dependencies: [nioCore],
            swiftSettings: swiftSettings
        ),
        // What the HTTP door parses from request bodies and headers before any file is touched:
        // multipart forms (streamed into a sink) and byte ranges.
        .target(
            name: "HTTPParsing",
            dependencies: [nioCore, .product(name: "MultipartKit", package: "multipart-kit")],
            swiftSettings: swiftSettings
        ),
        // The FTP door (SwiftNIO): the listener, control and data connections, the file area.
        .target(
            name: "ChatFTP",
            dependencies: [
                "ChatCore",
                "FTPProtocol",
                "ChatTLS",
                "Shared",
                logging,
                nioCore,
                nioPosix,
                nioSSL,
                nioFileSystem,
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The executable: the command line, the settings, and the assembly of a server from the
        // libraries above.
        .executableTarget(
            name: "chatd",
            dependencies: [
                "ChatCore",
                "ChatStoreSQLite",
                "ChatStorePostgres",
                "ChatTLS",
                "ChatHTTP",
                "ChatFTP",
                "Shared",
                hummingbird,
                argumentParser,
                logging,
                nioCore,
                nioPosix,
                serviceLifecycle,
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            // The browser UI, served as it is: no build step. Copied next to the binary as
            // chatd_chatd.resources/Assets; WebAssets finds it there without Bundle.module.
            resources: [.copy("Web/Assets")],
            swiftSettings: swiftSettings
        ),
        // ncursesw for chat-tui: a shim header for what Swift cannot import (libncurses-dev).
        .systemLibrary(
            name: "CNCurses",
            path: "Sources/CNCurses"
        ),
        .executableTarget(
            name: "chat-tui",
            dependencies: [
                "Shared",
                "CNCurses",
                hummingbirdWSClient,
                asyncHTTPClient,
                argumentParser,
                logging,
                nioCore,
                nioPosix,
                nioHTTP1,
                nioFileSystem,
                nioSSL,
            ],
            swiftSettings: swiftSettings
        ),
        // The load generator: raw NIO WebSocket framing, every connection on one event loop.
        .executableTarget(
            name: "chat-bench",
            dependencies: [
                "ChatCore",
                "ChatStoreSQLite",
                "ChatStorePostgres",
                "Shared",
                argumentParser,
                logging,
                nioCore,
                nioPosix,
                nioWebSocket,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: ["Shared"],
            swiftSettings: swiftSettings
        ),
        // What the Swift test targets share: temporary data directories, a quiet logger, the chat
        // core wired on a real SQLite file, readers of what sessions were sent.
        .target(
            name: "ChatTestSupport",
            dependencies: [
                "ChatCore",
                "ChatStoreSQLite",
                "Shared",
                logging,
                nioCore,
                nioPosix,
            ],
            path: "Tests/ChatTestSupport",
            swiftSettings: swiftSettings
        ),
        // One test target per library, as the sources are split.
        .testTarget(
            name: "ChatCoreTests",
            dependencies: [
                "ChatCore", "ChatStoreSQLite", "ChatTestSupport", "Shared",
                grdb,
                nioEmbedded,
                nioWebSocket,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatStorePostgresTests",
            dependencies: ["ChatCore", "ChatStorePostgres", "ChatTestSupport", "Shared"],
            swiftSettings: swiftSettings
        ),
        // One suite of store cases run against both backends (SQLite, and PostgreSQL on the server
        // named by CHATD_TEST_POSTGRES), so that the stores cannot drift apart. Not in plain
        // `swift test` (`--skip StoreConformance`): Tests/e2e/test_store_conformance.py runs it.
        .testTarget(
            name: "ChatStoreConformanceTests",
            dependencies: [
                "ChatCore", "ChatStoreSQLite", "ChatStorePostgres", "ChatTestSupport", "Shared",
                postgresNIO,
                nioSSL,
                logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatFTPTests",
            dependencies: [
                "ChatCore", "ChatStoreSQLite", "ChatTLS", "ChatFTP", "FTPProtocol", "ChatTestSupport", "Shared",
                nioEmbedded,
                nioSSL,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FTPProtocolTests",
            dependencies: ["FTPProtocol", nioCore, nioEmbedded],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPParsingTests",
            dependencies: ["HTTPParsing"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatHTTPTests",
            dependencies: [
                "ChatCore", "ChatStoreSQLite", "ChatTLS", "ChatHTTP", "FTPProtocol", "HTTPParsing", "ChatTestSupport", "Shared",
                hummingbird,
                hummingbirdWSClient,
                nioEmbedded,
                nioWebSocket,
                nioHTTPTypesHTTP1,
                nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),
        // The executable's own parts (settings) and a whole server over real sockets.
        .testTarget(
            name: "chatdTests",
            dependencies: [
                "chatd",
                "ChatCore",
                "ChatStoreSQLite",
                "ChatStorePostgres",
                "ChatTLS",
                "ChatHTTP",
                "ChatFTP",
                "ChatTestSupport",
                "Shared",
                hummingbirdWSClient,
                asyncHTTPClient,
                grdb,
                nioWebSocket,
                nioHTTP1,
                nioSSL,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "chat-tuiTests",
            dependencies: ["chat-tui", "Shared"],
            swiftSettings: swiftSettings
        ),
    ]
)

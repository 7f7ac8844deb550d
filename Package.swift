// swift-tools-version: 6.1
// Ferry: moves container images across air gaps, fast.
// Dependencies run one way (DESIGN.md §4): C targets → OCI/Codec → Transfer → Registry/Stores → Mirror → ferry.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "ferry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .executable(name: "ferry-testkit", targets: ["ferry-testkit"]),
        .library(name: "Mirror", targets: ["Mirror"]),
        // For the Benchmarks/ package, which depends on this one by path.
        .library(name: "Codec", targets: ["Codec"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Stores", targets: ["Stores"]),
        .library(name: "Transfer", targets: ["Transfer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries from Debian -dev packages, with only the shims Swift cannot do without.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CZstd", linkerSettings: [.linkedLibrary("zstd")]),
        .target(name: "CDeflate", linkerSettings: [.linkedLibrary("deflate")]),
        .target(name: "CIsal", linkerSettings: [.linkedLibrary("isal")]),
        .target(name: "CSpawn"),
        .target(name: "CFile"),

        .target(name: "OCI", swiftSettings: strict),
        // posix_spawn children, instead of Foundation's Process (its Linux run() can crash: corelibs-foundation #5472).
        .target(name: "Spawn", dependencies: ["CSpawn"], swiftSettings: strict),
        .target(name: "Codec", dependencies: ["CCrypto", "CZlib", "CZstd", "CDeflate", "CIsal"], swiftSettings: strict),
        .target(name: "Transfer", dependencies: ["CCurl", "CFile", "Codec"], swiftSettings: strict),
        .target(name: "Registry", dependencies: ["Transfer", "OCI", "Codec", "Spawn"], swiftSettings: strict),
        .target(name: "Stores", dependencies: ["OCI", "Codec"], swiftSettings: strict),
        .target(
            name: "Mirror",
            dependencies: [
                "Registry", "Stores", "Transfer", "OCI", "Codec", "Spawn", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // ferry bench: scenarios, measurements, the JSON report, the regression gate, table and plot.
        .target(name: "Bench", dependencies: ["Spawn", "Registry"], swiftSettings: strict),
        .executableTarget(
            name: "ferry",
            dependencies: ["Mirror", "Bench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),

        // Test parts: a library (no servers) and a separate executable holding the servers,
        // so the shipped `ferry` never links NIO.
        // Optimized in debug builds too: it generates hundreds of MB of image content per test run, on the test
        // runner's few concurrency threads, where unoptimized code held them for seconds at a time.
        .target(
            name: "TestSupport", dependencies: ["OCI", "Codec", "Spawn"],
            swiftSettings: strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .executableTarget(
            name: "ferry-testkit",
            dependencies: [
                "CCrypto",
                "Codec",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        .testTarget(name: "SpawnTests", dependencies: ["Spawn"]),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "CodecTests", dependencies: ["Codec", "Spawn"]),
        .testTarget(name: "TransferTests", dependencies: ["Transfer", "CFile", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "TestSupport"]),
        .testTarget(name: "StoresTests", dependencies: ["Stores", "TestSupport"]),
        .testTarget(name: "MirrorTests", dependencies: ["Mirror", "TestSupport", "Spawn"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "OCI", "Codec", "Spawn"]),
    ]
)

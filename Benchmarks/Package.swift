// swift-tools-version: 6.1
// Ferry's benchmarks (ordo-one/benchmark), a package of their own so the main build never needs the benchmark
// tooling. Run from this directory:
//   swift package benchmark                                   # run and print
//   swift package benchmark thresholds check                  # compare with Thresholds/ (CI)
//   swift package --allow-writing-to-package-directory benchmark thresholds update   # after an intended change
import PackageDescription

let package = Package(
    name: "FerryBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "ferry", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Codec", package: "ferry"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Codec", package: "ferry"),
                .product(name: "OCI", package: "ferry"),
                .product(name: "Stores", package: "ferry"),
                .product(name: "Transfer", package: "ferry"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)

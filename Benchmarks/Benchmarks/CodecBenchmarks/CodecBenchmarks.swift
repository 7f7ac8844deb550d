import Benchmark
import Codec

// Codec throughput and allocations on 8 MiB of log-like text (generated here, never committed): sha256, the zlib
// baseline, parallel gzip (libdeflate on the worker pool), ISA-L gunzip, zstd on one and on all cores, unzstd,
// and the whole gzip → zstd pipeline. Thresholds live in ../../Thresholds. The machine is shared and its wall
// clock swings ±50% with other work, so time may double before the check fails: that still catches what matters
// (losing the parallel path, falling back to zlib is 2.7× slower); the ratios against the real tools are
// perf/codec.py's job. Allocation counts and peak memory may drift 25%.
// `thresholds check` exits 2 on a regression and 4 when there are only improvements.
// Names have no spaces: benchmark 1.38.1 writes threshold files with spaces turned into "_" but looks them up with
// the name as it is, so a name with a space never finds its thresholds.

let size = 8 << 20
let logs = makeLogs(size)
let gzipped = try! ParallelGzipEncoder.compress(logs)
let zstded = try! ZstdEncoder.compress(logs)

func makeLogs(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func random() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    let words = ["INFO", "GET", "/api/v1/blobs/", "200", "req_id=", "manifests", "ms", "upstream", "cache"].map { Array($0.utf8) }
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(count + 256)
    while out.count < count {
        for _ in 0..<6 {
            out += words[Int(random() % UInt64(words.count))]
            out.append(UInt8(ascii: " "))
        }
        var id = random()
        for _ in 0..<16 {
            out.append(hex[Int(id & 15)])
            id >>= 4
        }
        out.append(UInt8(ascii: "\n"))
    }
    return Array(out.prefix(count))
}

let benchmarks: @Sendable () -> Void = {
    let time = BenchmarkThresholds(relative: [.p90: 100.0])
    let memory = BenchmarkThresholds(relative: [.p90: 25.0])
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 30,
        thresholds: [.wallClock: time, .mallocCountTotal: memory, .peakMemoryResident: memory]
    )

    Benchmark("sha256-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(SHA256.hexDigest(logs))
        }
    }

    Benchmark("gzip-zlib-level6-baseline-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            let encoder = GzipEncoder(level: 6)
            var out: [UInt8] = []
            encoder.compress(logs, into: &out)
            encoder.finish(into: &out)
            blackHole(out)
        }
    }

    Benchmark("gzip-parallel-level6-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ParallelGzipEncoder.compress(logs))
        }
    }

    Benchmark("gunzip-isal-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try GzipDecoder.decompress(gzipped))
        }
    }

    Benchmark("zstd-level3-one-thread-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ZstdEncoder.compress(logs, options: ZstdOptions(level: 3, workers: 0)))
        }
    }

    Benchmark("zstd-level3-parallel-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ZstdEncoder.compress(logs, options: ZstdOptions(level: 3)))
        }
    }

    Benchmark("unzstd-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ZstdDecoder.decompress(zstded))
        }
    }

    Benchmark("pipeline-gzip-to-zstd-digests-8MiB") { benchmark in
        for _ in benchmark.scaledIterations {
            let pipeline = Pipeline(decoding: .gzip, encoding: .zstd(ZstdOptions(level: 3)))
            blackHole(try await pipeline.run(from: MemorySource(gzipped), to: DiscardSink()))
        }
    }
}

import Benchmark
import Codec
import Foundation
import OCI
import Stores
import Transfer

// The engine's per-chunk and per-blob bookkeeping, the paths every transfer goes through besides the bytes
// themselves (those are CodecBenchmarks' and perf/'s): marking chunks in the journal (one pwrite each), handing out
// segments and stealing tails for a 1 GiB blob on 8 connections, planning a 2 000-blob bundle (tar headers and
// offsets), and parsing references and a large index. Thresholds live in ../../Thresholds; as for the codecs, wall
// time may double on this shared machine before the check fails, allocations and memory may drift 25%.
// Names have no spaces (see CodecBenchmarks).

let gib: Int64 = 1 << 30
let chunk: Int64 = 1 << 20

/// 2 000 descriptors of distinct blobs, as a bundle of ~60 images would hold.
let blobs: [Descriptor] = (0..<2_000).map { i in
    let hex = SHA256.hexDigest(Array("blob \(i)".utf8))
    return Descriptor(mediaType: .ociLayerGzip, digest: try! Digest(sha256Hex: hex), size: Int64(1 + i * 40_000))
}

let references = (0..<1_000).map { i in "registry.example.com:5000/team\(i % 7)/app-\(i):1.\(i)@sha256:" + SHA256.hexDigest(Array("\(i)".utf8)) }

/// An index of 500 platform manifests, as a large multi-arch set or a bundle's index.json is.
let bigIndex: RawManifest = {
    let children = blobs.prefix(500).map { d in
        Descriptor(mediaType: .ociManifest, digest: d.digest, size: 1_234, platform: Platform(os: "linux", architecture: "amd64"))
    }
    return try! RawManifest(encoding: .index(ImageIndex(mediaType: .ociIndex, manifests: Array(children))))
}()

let benchmarks: @Sendable () -> Void = {
    let time = BenchmarkThresholds(relative: [.p90: 100.0])
    let memory = BenchmarkThresholds(relative: [.p90: 25.0])
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .microseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 50,
        thresholds: [.wallClock: time, .mallocCountTotal: memory, .peakMemoryResident: memory]
    )

    Benchmark("journal-mark-1GiB-in-1MiB-chunks") { benchmark in
        let directory = NSTemporaryDirectory() + "ferry-bench-journal-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/blob.partial"
        FileManager.default.createFile(atPath: data, contents: nil)
        truncate(data, off_t(gib))
        let plan = ChunkPlan(size: gib, chunkSize: chunk)
        for _ in benchmark.scaledIterations {
            let journal = try Journal(path: directory + "/blob.journal", plan: plan, digest: "sha256:bench", dataPath: data)
            for i in 0..<plan.count { try journal.mark(i) }
            blackHole(journal.doneCount)
            journal.remove()
        }
    }

    Benchmark("scheduler-1GiB-8-connections-with-stealing") { benchmark in
        let plan = ChunkPlan(size: gib, chunkSize: chunk)
        for _ in benchmark.scaledIterations {
            var scheduler = SegmentScheduler(plan: plan, done: [Bool](repeating: false, count: plan.count), connections: 8)
            var connections = (0..<8).compactMap { _ in scheduler.claim()?.id }
            // Connections write unevenly (one to three chunks a turn); one that reaches its segment's end (which
            // stealing may have lowered) releases it and claims again: a fresh run or another's tail.
            var turn = 0
            while !scheduler.isComplete && !connections.isEmpty {
                turn += 1
                for (k, id) in connections.enumerated() {
                    guard let segment = scheduler.segment(id) else { continue }
                    let now = min(segment.end, segment.position + chunk * Int64(1 + (k + turn) % 3))
                    blackHole(scheduler.advance(id, to: now))
                    if now >= segment.end {
                        scheduler.release(id)
                        connections[k] = scheduler.claim()?.id ?? -1
                    }
                }
                connections.removeAll { $0 < 0 }
            }
            blackHole(scheduler.doneCount)
        }
    }

    Benchmark("bundle-plan-2000-blobs") { benchmark in
        for _ in benchmark.scaledIterations {
            var plan = BundlePlan()
            plan.addFile("oci-layout", content: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            plan.addDirectory("blobs/")
            plan.addDirectory("blobs/sha256/")
            for blob in blobs { plan.addBlob(blob) }
            blackHole(plan.archiveSize)
            blackHole(plan.fingerprint.count)
        }
    }

    Benchmark("reference-parse-1000") { benchmark in
        for _ in benchmark.scaledIterations {
            for text in references { blackHole(try Reference(parsing: text)) }
        }
    }

    Benchmark("index-parse-500-manifests") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try RawManifest(bytes: bigIndex.bytes, mediaType: .ociIndex).parse())
        }
    }
}

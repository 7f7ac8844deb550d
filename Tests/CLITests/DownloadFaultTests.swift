import Foundation
import TestSupport
import Testing

/// Each fault of the proxy, injected on the big layer's requests (path filter = its digest), between `ferry copy`
/// and a real registry. The layer is 8 MiB in 1 MiB chunks over 4 connections: quick, yet segmented.
@Suite struct DownloadFaultTests {
    static let layerBytes = 8 << 20
    static let chunk = 1 << 20
    static let connections = 4

    /// Copies through a proxy with `faults`; returns the run, its wall time, the proxy's counters and the layout.
    struct Run {
        var result: ProcessResult
        var seconds: Double
        var stats: DL.Proxy.Stats
        var layout: String
        var lines: [DL.ProgressLine]
    }

    static func copy(
        _ seeded: DL.SeededImage, faults: [String], extra: [String] = [], name: String = "out"
    ) async throws -> Run {
        let proxy = try await DL.Proxy.start(upstream: seeded.registry.address, faults: faults)
        defer { proxy.stop() }
        let layout = seeded.work.appending(name).path
        let start = ContinuousClock.now
        let result = try await CLI().run(
            ["copy", "--progress", "json", "--connections", "\(Self.connections)", "--chunk-size", "\(Self.chunk)"] + extra
                + [seeded.source(via: proxy.address), "oci:\(layout)"])
        let seconds = DL.seconds(ContinuousClock.now - start)
        return Run(result: result, seconds: seconds, stats: try await proxy.stats(), layout: layout, lines: DL.ProgressLine.parse(result.stderrString))
    }

    static func retries(_ run: Run, of blob: BuiltImage.Blob) -> [DL.ProgressLine] {
        run.lines.filter { $0.id == blob.digest && $0.event == "retried" }
    }

    @Test("cut after N bytes: the blob still verifies and bytes fetched stay within size + in-flight chunks")
    func cut() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 311)
        defer { seeded.stop() }
        // Connections at once on equal shares: each first request is long enough to be cut.
        let run = try await Self.copy(seeded, faults: ["cut=700000,path=\(seeded.layer.hex),count=3"], extra: ["--split-after", "0"])
        #expect(run.result.status == 0, "\(run.result.stderrString)")
        #expect(try DL.verifyLayout(run.layout) == Set(seeded.image.blobs.map(\.digest)))
        #expect(run.stats.faultsApplied["cut"] == 3)
        #expect(Self.retries(run, of: seeded.layer).count >= 3, "each cut connection is retried")
        let limit = seeded.layer.size + seeded.config.size + Self.connections * Self.chunk
        #expect(run.stats.blobBytes <= limit, "fetched \(run.stats.blobBytes) bytes for a \(seeded.layer.size)-byte blob")
        #expect(run.stats.blobBytes >= seeded.layer.size)
    }

    @Test("500 and 503 on blob requests are retried", arguments: [500, 503])
    func serverErrors(status: Int) async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 312 + UInt64(status))
        defer { seeded.stop() }
        let run = try await Self.copy(seeded, faults: ["status=\(status),path=\(seeded.layer.hex),count=3"])
        #expect(run.result.status == 0, "\(run.result.stderrString)")
        #expect(try DL.verifyLayout(run.layout) == Set(seeded.image.blobs.map(\.digest)))
        #expect(run.stats.status(status) == 3)
        #expect(Self.retries(run, of: seeded.layer).count == 3)
    }

    @Test("5xx beyond --retries fails with exit 1 naming the status, leaving a resumable state")
    func serverErrorsExhaustRetries() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 315)
        defer { seeded.stop() }
        let run = try await Self.copy(seeded, faults: ["status=503,path=\(seeded.layer.hex)"], extra: ["--retries", "2"])
        #expect(run.result.status == 1)
        #expect(run.result.stderrString.contains("503"), "\(run.result.stderrString)")
        // --retries 2: three attempts of the one segment that asked first; the others wait for its answer.
        #expect(run.stats.status(503) >= 3 && run.stats.status(503) <= 3 * Self.connections)
        try DL.expectOnlyVerifiedBlobs(run.layout)
        #expect(!FileManager.default.fileExists(atPath: "\(run.layout)/blobs/sha256/\(seeded.layer.hex)"))
    }

    @Test("429 with Retry-After: the pause asked for is honoured, then the download completes")
    func retryAfter() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 316)
        defer { seeded.stop() }
        let run = try await Self.copy(seeded, faults: ["429,retry-after=2,path=\(seeded.layer.hex),count=1"])
        #expect(run.result.status == 0, "\(run.result.stderrString)")
        #expect(try DL.verifyLayout(run.layout) == Set(seeded.image.blobs.map(\.digest)))
        #expect(run.stats.status(429) == 1)
        let retried = Self.retries(run, of: seeded.layer)
        #expect(retried.count == 1)
        // From the refusal to the end of the blob at least Retry-After passed (the backoff alone would be ~0.25 s).
        if let refused = retried.first?.time, let done = run.lines.last(where: { $0.id == seeded.layer.digest && $0.event == "finished" })?.time {
            #expect(done - refused >= 1.95, "finished \(done - refused) s after the 429")
        }
        #expect(run.seconds >= 2)
    }

    @Test("a quota 429 (long Retry-After, or RateLimit-Remaining: 0) fails fast with a hint about credentials",
          arguments: ["429,retry-after=3600", "429,ratelimit-remaining"])
    func quota(fault: String) async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 317)
        defer { seeded.stop() }
        let run = try await Self.copy(seeded, faults: ["\(fault),path=\(seeded.layer.hex)"])
        #expect(run.result.status == 1)
        let stderr = run.result.stderrString
        #expect(stderr.contains("quota"), "\(stderr)")
        #expect(stderr.contains("credentials") || stderr.contains("--creds"), "\(stderr)")
        #expect(run.seconds < 10, "a quota is not waited out")
        // Not hammered: each connection asked at most a couple of times.
        #expect(run.stats.status(429) <= Self.connections)
        try DL.expectOnlyVerifiedBlobs(run.layout)
    }

    @Test("a quota 429 on the manifest fails fast too, with the credentials hint")
    func quotaOnManifest() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: 1 << 20, seed: 318)
        defer { seeded.stop() }
        let run = try await Self.copy(seeded, faults: ["429,ratelimit-remaining,path=/manifests/"])
        #expect(run.result.status == 1)
        #expect(run.result.stderrString.contains("quota"), "\(run.result.stderrString)")
        #expect(run.result.stderrString.contains("credentials") || run.result.stderrString.contains("--creds"), "\(run.result.stderrString)")
        #expect(run.stats.status(429) == 1)
        #expect(run.seconds < 10)
    }

    @Test("a server ignoring Range (200 with the whole blob): one stream, verified")
    func ignoreRange() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 319)
        defer { seeded.stop() }
        let run = try await Self.copy(seeded, faults: ["ignore-range,path=/blobs/"])
        #expect(run.result.status == 0, "\(run.result.stderrString)")
        #expect(try DL.verifyLayout(run.layout) == Set(seeded.image.blobs.map(\.digest)))
        #expect(run.stats.status(206) == 0)
        // One request per blob (config + layer): the other connections never started, nothing was fetched twice.
        #expect(run.stats.blobRequests == 2)
        #expect(run.stats.blobBytes == seeded.layer.size + seeded.config.size)
    }

    @Test("a connection that goes silent is dropped after --stall-timeout and its segment retried")
    func stall() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 320)
        defer { seeded.stop() }
        let run = try await Self.copy(
            seeded, faults: ["stall=60,stall-after=300000,path=\(seeded.layer.hex),count=2"], extra: ["--stall-timeout", "1"])
        #expect(run.result.status == 0, "\(run.result.stderrString)")
        #expect(try DL.verifyLayout(run.layout) == Set(seeded.image.blobs.map(\.digest)))
        #expect(run.stats.faultsApplied["stall"] == 2)
        #expect(Self.retries(run, of: seeded.layer).count >= 2)
        #expect(run.seconds < 20, "took \(run.seconds) s: stalls of 60 s were waited out")
        let limit = seeded.layer.size + seeded.config.size + Self.connections * Self.chunk
        #expect(run.stats.blobBytes <= limit)
    }

    @Test("a request that gets no answer at all (held before the response head) counts as stalled too")
    func silentBeforeHead() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: Self.layerBytes, seed: 321)
        defer { seeded.stop() }
        let proxy = try await DL.Proxy.start(upstream: seeded.registry.address, faults: ["hold,path=\(seeded.layer.hex),count=1"])
        defer { proxy.stop() }
        let output = try TemporaryDirectory(prefix: "ferry-out-")
        let home = try TemporaryDirectory(prefix: "ferry-home-")
        let layout = seeded.work.appending("out").path
        let ferry = try DL.startFerry(
            ["copy", "--progress", "json", "--stall-timeout", "1", "--connections", "4", "--chunk-size", "1MiB",
             seeded.source(via: proxy.address), "oci:\(layout)"], home: home, output: output, name: "ferry")
        defer { ferry.stop() }
        let ended = try await DL.waitForExit(ferry, timeout: .seconds(15))
        let held = try await proxy.stats().held
        try await proxy.releaseHeld()
        #expect(ended, "ferry still waits for a response held for 15 s (--stall-timeout 1); held requests: \(held)")
        if ended {
            #expect(ferry.terminationStatus == 0, "\(ferry.stderr())")
            #expect(try DL.verifyLayout(layout) == Set(seeded.image.blobs.map(\.digest)))
        }
    }

    @Test("a 401 without a challenge from something in front of a token registry: the token is renewed, the download goes on")
    func unauthorizedMidTransfer() async throws {
        let user = Credentials(username: "dl", password: "pw-\(UInt32.random(in: 100_000...999_999))")
        let seeded = try await DL.SeededImage.launch(.token(users: [user]), layerBytes: Self.layerBytes, seed: 322)
        defer { seeded.stop() }
        let run = try await Self.copy(
            seeded, faults: ["status=401,path=\(seeded.layer.hex),count=1"], extra: ["--creds", user.colonSeparated])
        #expect(run.result.status == 0, "\(run.result.stderrString)")
        if run.result.status == 0 {
            #expect(try DL.verifyLayout(run.layout) == Set(seeded.image.blobs.map(\.digest)))
        }
        #expect(run.stats.status(401) >= 1)
    }
}

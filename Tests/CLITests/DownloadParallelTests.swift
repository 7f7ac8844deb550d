import Foundation
import Synchronization
import TestSupport
import Testing

/// One blob over several TCP connections: really several (counted at the proxy and in /proc/net/tcp), and faster
/// through a link that caps each connection. Ratios only, with margin: this is a functional check of parallelism,
/// the benchmarks measure speed.
@Suite struct DownloadParallelTests {
    @Test("through a per-connection cap, --connections 4 opens 4 connections and is clearly faster than --connections 1")
    func throttledConnections() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: 32 << 20, seed: 331)
        defer { seeded.stop() }
        let throttle = "throttle=4000000,path=/blobs/"
        let one = try await DL.Proxy.start(upstream: seeded.registry.address, faults: [throttle])
        defer { one.stop() }
        let four = try await DL.Proxy.start(upstream: seeded.registry.address, faults: [throttle])
        defer { four.stop() }

        // Both at once (the cap is per connection, so they do not slow each other down).
        func copy(_ proxy: DL.Proxy, connections: Int) async throws -> ProcessResult {
            try await CLI().run([
                "copy", "--progress", "json", "--connections", "\(connections)", "--chunk-size", "512KiB",
                seeded.source(via: proxy.address), "oci:\(seeded.work.path)/c\(connections)",
            ])
        }
        async let r1 = copy(one, connections: 1)
        async let r4 = copy(four, connections: 4)
        let (single, parallel) = try await (r1, r4)
        #expect(single.status == 0, "\(single.stderrString)")
        #expect(parallel.status == 0, "\(parallel.stderrString)")
        #expect(try DL.verifyLayout("\(seeded.work.path)/c1") == Set(seeded.image.blobs.map(\.digest)))
        #expect(try DL.verifyLayout("\(seeded.work.path)/c4") == Set(seeded.image.blobs.map(\.digest)))

        let s1 = try await one.stats(), s4 = try await four.stats()
        #expect(s4.maxOpenConnections >= 4, "max open connections \(s4.maxOpenConnections)")
        #expect(s4.connectionsAccepted >= 4)
        #expect(s4.maxOpenConnections > s1.maxOpenConnections, "1 connection: \(s1.maxOpenConnections) open at most")
        // Ranged requests: the layer in ≥4 segments (stealing may add some), the config in one.
        #expect(s4.status(206) >= 5)
        #expect(s1.status(206) == 2, "one Range request per blob with --connections 1")
        // Nothing fetched twice.
        #expect(s1.blobBytes == seeded.layer.size + seeded.config.size)
        #expect(s4.blobBytes <= seeded.layer.size + seeded.config.size + 4 * (512 << 10))

        let t1 = try #require(DL.ProgressLine.duration(of: seeded.layer.digest, in: DL.ProgressLine.parse(single.stderrString)))
        let t4 = try #require(DL.ProgressLine.duration(of: seeded.layer.digest, in: DL.ProgressLine.parse(parallel.stderrString)))
        // A functional check that the connections run in parallel, not a speed target (perf/throttled.py has that):
        // 4 connections under a per-connection cap are ideally 4× one, one after another ~1×. Extra connections join
        // only once the first one's rate is known (--split-after), and a clean-clone CI run under full load measured
        // 1.92×: 1.5× still tells parallel from serial.
        #expect(t1 / t4 >= 1.5, "1 connection: \(t1) s, 4 connections: \(t4) s (ratio \(t1 / t4))")
    }

    @Test("TLS registry: --connections 4 opens 4 TCP connections to it (counted in /proc/net/tcp)")
    func tlsConnections() async throws {
        let seeded = try await DL.SeededImage.launch(.https(basicAuth: nil), layerBytes: 48 << 20, seed: 332)
        defer { seeded.stop() }
        let ca = try #require(seeded.registry.caCertPath).path
        let home = try TemporaryDirectory(prefix: "ferry-home-")

        /// Runs ferry and samples the established connections to the registry's port while it runs.
        func sampled(connections: Int) async throws -> (distinct: Int, maxAtOnce: Int) {
            let layout = "\(seeded.work.path)/tls\(connections)"
            let ferry = try DL.startFerry(
                ["copy", "--ca-cert", ca, "--jobs", "1", "--split-after", "0", "--connections", "\(connections)", "--chunk-size", "1MiB",
                 seeded.source(), "oci:\(layout)"], home: home, output: seeded.work, name: "tls\(connections)")
            defer { ferry.stop() }
            let sampler = ConnectionSampler(port: seeded.registry.port)
            let ended = try await DL.waitForExit(ferry, timeout: .seconds(60))
            let (seen, maxAtOnce) = sampler.stop()
            #expect(ended)
            #expect(ferry.terminationStatus == 0, "\(ferry.stderr())")
            #expect(try DL.verifyLayout(layout) == Set(seeded.image.blobs.map(\.digest)))
            return (seen, maxAtOnce)
        }
        let c1 = try await sampled(connections: 1)
        let c4 = try await sampled(connections: 4)
        #expect(c4.maxAtOnce >= 4, "at most \(c4.maxAtOnce) connections at once with --connections 4")
        #expect(c4.distinct >= c1.distinct + 3, "--connections 1 used \(c1.distinct) connections, --connections 4 used \(c4.distinct)")
    }

    @Test("behind a cross-host redirect, segments go straight to the redirected URL")
    func redirectedSegments() async throws {
        let seeded = try await DL.SeededImage.launch(.redirect, layerBytes: 8 << 20, seed: 333)
        defer { seeded.stop() }
        let proxy = try await DL.Proxy.start(upstream: seeded.registry.address)
        defer { proxy.stop() }
        let layout = "\(seeded.work.path)/out"
        let result = try await CLI().run([
            "copy", "--split-after", "0", "--connections", "4", "--chunk-size", "1MiB", seeded.source(via: proxy.address), "oci:\(layout)",
        ])
        #expect(result.status == 0, "\(result.stderrString)")
        #expect(try DL.verifyLayout(layout) == Set(seeded.image.blobs.map(\.digest)))
        let stats = try await proxy.stats()
        // The registry saw one GET per blob (answered 307); every segment after that went to the storage host.
        #expect(stats.status(307) == 2)
        #expect(stats.blobRequests == 2)
        let files = try #require(seeded.registry.redirectBaseURL)
        let raw = try await ProcessRunner.check(["curl", "-sS", "--max-time", "10", files.appendingPathComponent("__testkit/stats").absoluteString])
        let served = try #require(try JSONSerialization.jsonObject(with: raw.stdout) as? [String: Any])
        #expect((served["requests"] as? Int ?? 0) >= 5, "storage saw \(served)")
        #expect((served["bodyBytes"] as? Int ?? 0) <= seeded.layer.size + seeded.config.size + 4 * (1 << 20))
    }
}

/// Samples /proc/net/tcp every millisecond on a thread of its own (the cooperative pool may be busy with other
/// suites, and a loopback download is over in a fraction of a second).
final class ConnectionSampler: Sendable {
    private let state = Mutex((running: true, seen: Set<String>(), maxAtOnce: 0))
    private let done = DispatchSemaphore(value: 0)

    init(port: Int) {
        let thread = Thread { [self] in
            while self.state.withLock({ $0.running }) {
                let now = DL.establishedConnections(toPort: port)
                self.state.withLock {
                    $0.seen.formUnion(now)
                    $0.maxAtOnce = max($0.maxAtOnce, now.count)
                }
                usleep(1000)
            }
            self.done.signal()
        }
        thread.start()
    }

    /// Stops sampling; returns how many distinct connections were seen and the most at once.
    func stop() -> (distinct: Int, maxAtOnce: Int) {
        self.state.withLock { $0.running = false }
        self.done.wait()
        return self.state.withLock { ($0.seen.count, $0.maxAtOnce) }
    }
}

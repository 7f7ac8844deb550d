import Foundation
import TestSupport
import Testing
@testable import Transfer

/// The engine against a real registry (through the fault proxy where a fault or a counter is needed).
@Suite struct CurlEngineTests {
    @Test("many requests in flight on one engine: all held at the proxy at once, then all complete intact")
    func manyInFlight() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 300_000, seed: 401)
        defer { fixture.stop() }
        let proxy = try await TestProxy.start(upstream: fixture.registry.address, faults: ["hold,path=/blobs/"])
        defer { proxy.stop() }
        let engine = CurlEngine()
        let count = 32
        let url = fixture.url(via: proxy.address)
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for _ in 0..<count {
                group.addTask {
                    let (response, body) = try await engine.perform(Request(url: url), maxBodyBytes: 1 << 20)
                    return (response.status, sha256Hex(body))
                }
            }
            let allHeld = try await eventually(.seconds(20)) { try await proxy.stats().held == count }
            let stats = try await proxy.stats()
            try await proxy.releaseHeld()
            #expect(allHeld, "only \(stats.held) of \(count) requests reached the proxy together")
            #expect(stats.maxOpenConnections >= count, "each HTTP/1.1 request in flight has its own connection")
            var results = 0
            for try await (status, digest) in group {
                #expect(status == 200)
                #expect(digest == fixture.blob.hex)
                results += 1
            }
            #expect(results == count)
        }
    }

    @Test("cancelling a task waiting for the response head removes its transfer promptly")
    func cancelBeforeHead() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 100_000, seed: 402)
        defer { fixture.stop() }
        let proxy = try await TestProxy.start(upstream: fixture.registry.address, faults: ["hold,path=/blobs/"])
        defer { proxy.stop() }
        let engine = CurlEngine()
        let url = fixture.url(via: proxy.address)
        let task = Task { try await engine.execute(Request(url: url)).0.status }
        #expect(try await eventually(.seconds(10)) { try await proxy.stats().held == 1 })
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        let elapsed = (ContinuousClock.now - start).seconds
        // Generous for a busy machine: the whole suite shares two cooperative threads with synchronous image
        // builders. Without cancellation the task would wait for the held request forever.
        #expect(elapsed < 8, "cancellation took \(elapsed) s")
        #expect(throws: CancellationError.self) { try result.get() }
        // The handle left the multi handle and curl closed its connection (seen from this process's side)…
        #expect(try await eventually(.seconds(3)) { connections(to: proxy).isEmpty }, "the cancelled request's connection is still open")
        // …and the proxy saw it go: only the stats request's own connection remains.
        #expect(try await eventually(.seconds(10)) { try await proxy.stats().openConnections == 1 })
        try await proxy.releaseHeld()
        // The engine is still fine for the next request.
        let (response, bytes) = try await engine.perform(Request(url: fixture.url()))
        #expect(response.status == 200 && sha256Hex(bytes) == fixture.blob.hex)
    }

    @Test("cancelling a task reading a body stops the transfer at once; so does dropping the body unread")
    func cancelMidBody() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 4 << 20, seed: 403)
        defer { fixture.stop() }
        let proxy = try await TestProxy.start(upstream: fixture.registry.address, faults: ["throttle=300000,path=/blobs/"])
        defer { proxy.stop() }
        let engine = CurlEngine()
        let url = fixture.url(via: proxy.address)
        let task = Task {
            let (_, body) = try await engine.execute(Request(url: url))
            var got = 0
            for try await chunk in body { got += chunk.count }
            return got
        }
        #expect(try await eventually(.seconds(10)) { try await proxy.stats().responseBodyBytes > 100_000 })
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        let elapsed = (ContinuousClock.now - start).seconds
        // Generous for a busy machine: the whole suite shares two cooperative threads with synchronous image
        // builders. Without cancellation the task would wait for the held request forever.
        #expect(elapsed < 8, "cancellation took \(elapsed) s")
        #expect(throws: (any Error).self) { try result.get() }
        #expect(try await eventually(.seconds(3)) { connections(to: proxy).isEmpty }, "the cancelled transfer's connection is still open")
        // Once the proxy has seen the connection go, nothing more is sent, and far less than the body was.
        #expect(try await eventually(.seconds(10)) { try await proxy.stats().openConnections == 1 })
        let sent = try await proxy.stats().responseBodyBytes
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await proxy.stats().responseBodyBytes == sent, "nothing more is sent once the transfer is removed")
        #expect(sent < 4 << 20)

        // A body dropped without reading it: its owner cancels the transfer.
        do {
            let (response, _) = try await engine.execute(Request(url: url))
            #expect(response.status == 200)
        }
        #expect(try await eventually(.seconds(3)) { connections(to: proxy).isEmpty }, "the abandoned transfer's connection is still open")
    }

    /// Set in the child process that runs `slowReaderProbe` alone.
    static let isProbe = ProcessInfo.processInfo.environment["FERRY_RSS_PROBE"] == "1"

    /// RSS is per process, and `swift test` runs every suite in one process at once: the measurement runs in a
    /// child test process holding nothing but this test (the same test binary, filtered to the probe).
    @Test("a slow reader keeps memory bounded: curl is paused, RSS stays flat over a 256 MiB body")
    func slowReader() async throws {
        guard !Self.isProbe else { return }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let result = try await ProcessRunner.run(
            [exe, "--testing-library", "swift-testing", "--filter", "CurlEngineTests/slowReaderProbe"],
            environment: ["FERRY_RSS_PROBE": "1"])
        let output = result.stdoutString + result.stderrString
        #expect(result.status == 0, "\(output)")
        #expect(output.contains("RSS probe") && output.contains("passed"), "the probe did not run: \(output)")
    }

    @Test("RSS probe: a slow reader of a 256 MiB body (run alone by slowReader)", .enabled(if: isProbe))
    func slowReaderProbe() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 256 << 20, seed: 404)
        defer { fixture.stop() }
        let proxy = try await TestProxy.start(upstream: fixture.registry.address)
        defer { proxy.stop() }
        let engine = CurlEngine()
        let (response, body) = try await engine.execute(Request(url: fixture.url(via: proxy.address)))
        #expect(response.status == 200)
        let baseline = residentBytes()
        var iterator = body.makeAsyncIterator()
        var hasher = SHA256Stream()
        var total = 0
        var peak = baseline
        if let first = try await iterator.next() {
            hasher.update(first.bytes)
            total += first.count
        }
        // The reader stops: at loopback speed the whole body would arrive in well under this pause if curl went on.
        try await Task.sleep(for: .seconds(2))
        let sentWhilePaused = try await proxy.stats().responseBodyBytes
        peak = max(peak, residentBytes())
        #expect(sentWhilePaused < 48 << 20, "\(sentWhilePaused) bytes came while nobody read: curl was not paused")
        // Then reads on, slowly: a pause every few MiB.
        var sinceNap = 0
        while let chunk = try await iterator.next() {
            #expect(chunk.count <= (1 << 20) + (512 << 10), "a chunk of \(chunk.count) bytes: more than the buffer limit")
            hasher.update(chunk.bytes)
            total += chunk.count
            sinceNap += chunk.count
            if sinceNap >= 8 << 20 {
                sinceNap = 0
                peak = max(peak, residentBytes())
                try await Task.sleep(for: .milliseconds(15))
            }
        }
        #expect(total == fixture.blob.size)
        #expect(hasher.hex == fixture.blob.hex)
        let growth = peak - baseline
        #expect(growth < 16 << 20, "RSS grew by \(growth >> 20) MiB while a 256 MiB body streamed through a slow reader")
    }
}

/// This process's established TCP connections to the proxy's port (/proc/net/tcp lists every socket of the
/// namespace; the client side of a connection is the one whose remote port is the proxy's).
func connections(to proxy: TestProxy) -> Set<String> {
    guard let port = proxy.address.split(separator: ":").last.flatMap({ Int($0) }) else { return [] }
    var found = Set<String>()
    for line in (readProcFile("/proc/net/tcp") ?? "").split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 3, fields[3] == "01" else { continue }  // ESTABLISHED
        let remote = fields[2].split(separator: ":")
        if remote.count == 2, Int(remote[1], radix: 16) == port { found.insert(String(fields[1])) }
    }
    return found
}

/// SHA256 over `[UInt8]` pieces.
struct SHA256Stream {
    private var h = Codec.SHA256()
    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { self.h.update($0) } }
    var hex: String { self.h.hexDigest() }
}

import Codec

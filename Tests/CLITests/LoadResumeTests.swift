import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL during a chunked upload, then the same command: it goes on from the registry's offset when the
/// registry can, and starts that blob again when a PATCH was cut half way (DESIGN §2, resume contract).
@Suite struct LoadResumeTests {
    static let chunk = 4 << 20

    struct Setup {
        let target: TestRegistry
        let proxy: UploadProxy
        let work: TemporaryDirectory
        let image: BuiltImage
        let cli: CLI
        let chunk: Int
        var state: URL { self.work.appending("state") }
        var args: [String] { ["load", "oci:\(self.image.layout.path)", "--to", "\(self.proxy.address)/ns", "--upload-chunk-size", "\(self.chunk)"] }
        var environment: [String: String] { ["XDG_STATE_HOME": self.state.path, "HOME": self.cli.home.path] }
        var layer: BuiltImage.Blob { self.image.manifests[0].layers[0].blob }

        static func make(faults: [String], seed: UInt64, layerSize: Int = 12 << 20, chunk: Int = LoadResumeTests.chunk) async throws -> Setup {
            let target = try await RegistryLauncher.launch(.http)
            let proxy = try await UploadProxy.start(upstream: target.address, faults: faults)
            let work = try TemporaryDirectory(prefix: "ferry-load-")
            let image = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: layerSize)], seed: seed), name: "quay.io/resume/app:1.0", at: work.appending("layout"))
            return Setup(target: target, proxy: proxy, work: work, image: image, cli: try CLI(), chunk: chunk)
        }

        func stop() {
            self.proxy.stop()
            self.target.stop()
        }

        func start() throws -> ChildProcess {
            try spawn([try Binaries.ferry.path] + self.args + ["--quiet"], in: self.work, environment: self.environment)
        }

        func waitForJournal() async throws {
            let deadline = Date().addingTimeInterval(20)
            while LoadKit.journalFiles(self.state).isEmpty {
                guard Date() < deadline else { throw TestSupportError("no upload was journaled") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    @Test("killed while the proxy holds the second PATCH: the rerun asks the registry and sends only what it lacks")
    func killBetweenPatches() async throws {
        let s = try await Setup.make(faults: ["hold,method=PATCH"], seed: 65)
        defer { s.stop() }
        let first = try s.start()
        try await s.proxy.waitFor("the first PATCH") { $0.held == 1 }
        try await s.proxy.release(count: 1)
        try await s.waitForJournal()
        try await s.proxy.waitFor("the second PATCH") { $0.held == 1 }
        kill(first.pid, SIGKILL)
        _ = first.waitForExit(.seconds(5))
        #expect(LoadKit.pendingUploadBytes(s.target, repository: "ns/resume/app") == [Self.chunk], "the registry holds the first chunk")

        try await s.proxy.reset()
        let second = try await s.cli.run(s.args, environment: s.environment)
        #expect(second.status == 0, "\(second.stderrString)")
        #expect(second.stderrString.contains("1 blobs uploaded (1 resumed)"), "\(second.stderrString)")
        let stats = try await s.proxy.stats()
        #expect(stats.uploads.requestBodyBytes == s.layer.size - Self.chunk, "only what the registry lacked was sent")
        #expect(stats.uploads.requestBodyBytes < s.layer.size)
        #expect(try await LoadKit.servedDigest("\(s.target.address)/ns/resume/app:1.0") == s.image.digest)
        #expect(LoadKit.journalFiles(s.state).isEmpty)
    }

    @Test("killed in the middle of a PATCH: the registry kept half a chunk, so the rerun starts that blob again")
    func killMidPatch() async throws {
        // 16 MiB PATCHes: the first goes quickly, the second at 1 MB/s (sixteen seconds), so "an eighth into the
        // second" leaves 14 s of slack (a full test run on 2 cores has held a test's task back for seconds, and at
        // 2 MB/s a kill came after the whole PATCH had arrived). Killed there, the 14 MiB left can't all be waiting
        // in socket buffers (a few MiB), so the registry gets part of that PATCH and no more.
        let chunk = 16 << 20
        let s = try await Setup.make(
            faults: ["throttle=100000000,method=PATCH,count=1", "throttle=1000000,method=PATCH"], seed: 66,
            layerSize: 2 * chunk + (4 << 20), chunk: chunk)
        defer { s.stop() }
        let first = try s.start()
        // Once the registry itself holds 2 MiB of the second chunk (not just the proxy having passed them on).
        let deadline = Date().addingTimeInterval(30)
        while (LoadKit.pendingUploadBytes(s.target, repository: "ns/resume/app").max() ?? 0) < chunk + (2 << 20) {
            guard Date() < deadline else { throw TestSupportError("the second PATCH did not get going") }
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(first.pid, SIGKILL)
        _ = first.waitForExit(.seconds(5))
        #expect(LoadKit.journalFiles(s.state).count == 1, "the first PATCH was journaled")
        // What was in socket buffers still drains through the proxy; wait until the registry's copy stops growing.
        var held: [Int] = []
        for _ in 0..<100 {
            let now = LoadKit.pendingUploadBytes(s.target, repository: "ns/resume/app")
            if now == held && !now.isEmpty { break }
            held = now
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(held.count == 1 && held[0] > chunk && held[0] < 2 * chunk, "part of a PATCH is in the registry: \(held)")

        try await s.proxy.reset()
        let second = try await s.cli.run(s.args, environment: s.environment)
        #expect(second.status == 0, "\(second.stderrString)")
        #expect(second.stderrString.contains("1 blobs uploaded, 1 already there"), "not resumed: \(second.stderrString)")
        let stats = try await s.proxy.stats()
        #expect(stats.uploads.requestBodyBytes >= s.layer.size, "the whole blob went again")
        #expect(try await LoadKit.servedDigest("\(s.target.address)/ns/resume/app:1.0") == s.image.digest)
        #expect(LoadKit.journalFiles(s.state).isEmpty)
    }

    @Test("a PATCH whose connection goes silent is dropped after --stall-timeout, and the upload goes on from the registry's offset")
    func stalledPatch() async throws {
        // The first PATCH gets through nothing (1 byte/s); its 16 MiB can't all hide in socket buffers, so ferry
        // sees no byte leave for a second.
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let proxy = try await UploadProxy.start(upstream: target.address, faults: ["throttle=1,method=PATCH,count=1"])
        defer { proxy.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let image = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: 20 << 20)], seed: 72), name: "quay.io/stall/app:1.0", at: work.appending("layout"))
        let started = Date()
        let r = try await CLI().run(
            ["load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/ns", "--upload-chunk-size", "16MiB", "--stall-timeout", "1", "--progress", "json"],
            environment: ["XDG_STATE_HOME": work.appending("state").path])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stderrString.contains("the connection stalled"), "\(r.stderrString)")
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(try await LoadKit.servedDigest("\(target.address)/ns/stall/app:1.0") == image.digest)
    }
}

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The resume contract (DESIGN §2): after SIGKILL, Ctrl-C, SIGTERM or a full disk the same command continues,
/// finished chunks and blobs are not fetched again, and nothing unverified reaches `blobs/`.
@Suite struct DownloadResumeTests {
    static let chunk = 4 << 20
    static let connections = 4

    /// What one interrupted run and its resumption did.
    struct Outcome {
        var signal: Int32
        var status: Int32?
        var stderr: String
        var doneBeforeKill: Int64
        var firstRunBytes: Int
        var secondRunBytes: Int
        /// ferry's largest RSS seen while it fetched the first half.
        var peakRSS: Int
    }

    @Test("SIGKILL, SIGINT and SIGTERM half way through a 256 MiB blob: the same command resumes from the finished chunks")
    func interrupted() async throws {
        let seeded = try await DL.SeededImage.launch(layerBytes: 256 << 20, seed: 341)
        defer { seeded.stop() }
        // The three at once, each through its own throttling proxy into its own layout.
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for signal in [SIGKILL, SIGINT, SIGTERM] {
                group.addTask { try await Self.interruptAndResume(seeded, signal: signal) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 3)
        let size = Int64(seeded.layer.size)
        for o in outcomes {
            let name = o.signal == SIGKILL ? "SIGKILL" : o.signal == SIGINT ? "SIGINT" : "SIGTERM"
            switch o.signal {
            case SIGINT, SIGTERM:
                #expect(o.status == 128 + o.signal, "\(name): exit \(String(describing: o.status)); \(o.stderr)")
                #expect(o.stderr.contains("run the same command again to resume"), "\(name): \(o.stderr)")
            default:
                break
            }
            // Memory is bounded by connections × a small buffer, not by the blob (DESIGN §6: <100 MB for 2 GiB).
            #expect(o.peakRSS > 0 && o.peakRSS < 100 << 20, "\(name): ferry's RSS reached \(o.peakRSS >> 20) MiB on a 256 MiB blob")
            #expect(o.doneBeforeKill >= size / 2 && o.doneBeforeKill < size, "\(name): \(o.doneBeforeKill) bytes journaled at the kill")
            // Finished chunks were not fetched again: at most the chunks that were in flight come twice.
            let slack = Self.connections * Self.chunk + seeded.config.size
            #expect(Int64(o.secondRunBytes) <= size - o.doneBeforeKill + Int64(slack),
                    "\(name): resumed run fetched \(o.secondRunBytes) bytes, \(size - o.doneBeforeKill) were missing")
            #expect(Int64(o.secondRunBytes) >= size - o.doneBeforeKill)
            // In total, the blob plus what was in flight at the kill: each connection's unfinished chunk, and what the
            // proxy had sent that was still in the kernel's socket buffers (both ends) when ferry died. Those buffers
            // fill when a busy machine keeps ferry from reading for a moment, so they are allowed in full.
            let inFlight = Self.connections * (Self.chunk + Self.socketBuffers) + seeded.config.size
            #expect(o.firstRunBytes + o.secondRunBytes <= seeded.layer.size + inFlight,
                    "\(name): \(o.firstRunBytes) + \(o.secondRunBytes) bytes for a \(size)-byte blob; \(o.doneBeforeKill) journaled at the kill")
        }
    }

    /// What the proxy may have sent on one connection that ferry had not yet read when it died: socket buffers at
    /// both ends. They fill when a busy machine keeps ferry from reading for a moment (seen here: ~5 MB a connection
    /// with every suite running; receive buffers may grow to tcp_rmem's maximum, 32 MiB here, so no bound is exact).
    static let socketBuffers = 8 << 20

    static func interruptAndResume(_ seeded: DL.SeededImage, signal: Int32) async throws -> Outcome {
        // 4 connections × 20 MB/s: the 256 MiB layer takes ~3.5 s.
        let proxy = try await DL.Proxy.start(upstream: seeded.registry.address, faults: ["throttle=20000000,path=/blobs/"])
        defer { proxy.stop() }
        let home = try TemporaryDirectory(prefix: "ferry-home-")
        let layout = "\(seeded.work.path)/sig\(signal)"
        let arguments = [
            "copy", "--progress", "plain", "--connections", "\(Self.connections)", "--chunk-size", "\(Self.chunk)",
            seeded.source(via: proxy.address), "oci:\(layout)",
        ]
        let journalPath = DL.partialPath(layout, seeded.layer) + ".journal"
        let ferry = try DL.startFerry(arguments, home: home, output: seeded.work, name: "sig\(signal)")
        defer { ferry.stop() }
        let half = Int64(seeded.layer.size / 2)
        var peakRSS = 0
        let reached = try await DL.waitUntil(.seconds(60)) {
            peakRSS = max(peakRSS, DL.residentBytes(of: ferry.pid))
            return (DL.JournalFile(path: journalPath)?.doneBytes ?? 0) >= half || !ferry.isRunning
        }
        try #require(reached && ferry.isRunning, "ferry did not get half way: \(ferry.stderr())")
        kill(ferry.pid, signal)
        try #require(try await DL.waitForExit(ferry, timeout: .seconds(15)), "ferry did not exit after signal \(signal)")

        let journal = try #require(DL.JournalFile(path: journalPath), "no journal after signal \(signal)")
        #expect(journal.digest == seeded.layer.digest)
        #expect(journal.size == Int64(seeded.layer.size) && journal.chunkSize == Int64(Self.chunk))
        // The partial file keeps its planned size; nothing unverified is at a final path, and there is no index yet.
        let attributes = try FileManager.default.attributesOfItem(atPath: DL.partialPath(layout, seeded.layer))
        #expect((attributes[.size] as? Int) == seeded.layer.size)
        try DL.expectOnlyVerifiedBlobs(layout)
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/blobs/sha256/\(seeded.layer.hex)"))
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/index.json"))
        let first = try await proxy.stats()

        // The same command again over the same link: counters zeroed, the throttle put back (reset clears faults).
        try await proxy.reset()
        try await proxy.setFaults(#"[{"kind":"throttle","value":20000000,"path":"/blobs/"}]"#)
        let again = try await CLI().run(arguments, environment: ["HOME": home.path])
        #expect(again.status == 0, "resume after signal \(signal): \(again.stderrString)")
        #expect(try DL.verifyLayout(layout) == Set(seeded.image.blobs.map(\.digest)))
        #expect(!FileManager.default.fileExists(atPath: journalPath), "partial state is removed on success")
        #expect(!FileManager.default.fileExists(atPath: DL.partialPath(layout, seeded.layer)))
        let second = try await proxy.stats()
        return Outcome(
            signal: signal, status: ferry.terminationStatus, stderr: ferry.stderr(), doneBeforeKill: journal.doneBytes,
            firstRunBytes: first.blobBytes, secondRunBytes: second.blobBytes, peakRSS: peakRSS)
    }

    /// Mounting a tmpfs needs root (CAP_SYS_ADMIN); probed once.
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let probe = try? TemporaryDirectory(prefix: "ferry-tmpfs-probe-") else { return false }
        guard mount("tmpfs", probe.path, "tmpfs", 0, "size=1m") == 0 else { return false }
        umount(probe.path)
        return true
    }()

    @Test("disk full: a clear message, exit 1, and the same command finishes once space is freed", .enabled(if: canMountTmpfs))
    func diskFull() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-dl-")
        // Largest first with --jobs 1: the 12 MiB layer fits and lands, the 6 MiB one then finds the disk full.
        let spec = ImageSpec(layers: [LayerSpec(size: 12 << 20), LayerSpec(size: 6 << 20)], seed: 342)
        let image = try await DL.buildImage(spec, at: work.appending("src"), tag: "1")
        try await Seeder(registry).push(image, to: "full/app", tag: "1")
        let big = image.manifests[0].layers[0].blob, small = image.manifests[0].layers[1].blob

        let mountPoint = try TemporaryDirectory(prefix: "ferry-tmpfs-")
        try #require(mount("tmpfs", mountPoint.path, "tmpfs", 0, "size=64m") == 0, "mount: \(String(cString: strerror(errno)))")
        defer { umount2(mountPoint.path, Int32(MNT_DETACH)) }
        // Leave room for the big layer and a little more, not for both.
        let filler = mountPoint.path + "/filler"
        let fillerBytes = (64 << 20) - big.size - (3 << 20)
        try Data(count: fillerBytes).write(to: URL(fileURLWithPath: filler))

        let proxy = try await DL.Proxy.start(upstream: registry.address)
        defer { proxy.stop() }
        let layout = mountPoint.path + "/layout"
        let arguments = ["copy", "--jobs", "1", "--chunk-size", "1MiB", "docker://\(proxy.address)/full/app:1", "oci:\(layout)"]
        let cli = try CLI()
        let full = try await cli.run(arguments)
        #expect(full.status == 1)
        #expect(full.stderrString.contains("disk space") || full.stderrString.contains("disk full"), "\(full.stderrString)")
        #expect(full.stderrString.contains("run the same command again"), "\(full.stderrString)")
        try DL.expectOnlyVerifiedBlobs(layout)
        #expect(FileManager.default.fileExists(atPath: "\(layout)/blobs/sha256/\(big.hex)"), "the blob that fitted is kept")
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/blobs/sha256/\(small.hex)"))
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/index.json"))

        try FileManager.default.removeItem(atPath: filler)
        try await proxy.reset()
        let resumed = try await cli.run(arguments)
        #expect(resumed.status == 0, "\(resumed.stderrString)")
        #expect(try DL.verifyLayout(layout) == Set(image.blobs.map(\.digest)))
        // The finished blob was not fetched again.
        let stats = try await proxy.stats()
        #expect(stats.blobBytes == small.size + image.manifests[0].config.size, "fetched \(stats.blobBytes) bytes on the second run")
    }
}

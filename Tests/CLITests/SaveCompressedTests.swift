import Codec
import Foundation
import OCI
import Stores
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `ferry save -o BUNDLE.tar.zst|.tar.gz`: the planned tar compressed as independent frames with a trailing index,
/// accepted by `zstd -t`/`gzip -t`, read in place by verify, images and load (docs/bundle-format.md).
@Suite struct SaveCompressedTests {
    static func sh(_ script: String) async throws -> ProcessResult {
        try await ProcessRunner.run(["sh", "-c", script])
    }

    @Test("save → verify → images → load round trip; the standard tools accept the file and decompress it to the tar", arguments: ["zst", "gz"])
    func roundTrip(_ ext: String) async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let cli = try CLI()
        let bundle = source.work.appending("b.tar.\(ext)").path
        let save = try await cli.run(["save", "--quiet", "-o", bundle, source.appRef, source.toolRef])
        #expect(save.status == 0, "\(save.stderrString)")
        #expect(!FileManager.default.fileExists(atPath: bundle + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: bundle + ".partial.ferry"))
        #expect(FileManager.default.fileExists(atPath: bundle + ".ferry.json"))

        // The standard tools: integrity test, and decompression yields exactly a tar Ferry and tar read.
        let tool = ext == "zst" ? "zstd" : "gzip"
        let tested = try await Self.sh("\(tool) -t '\(bundle)'")
        #expect(tested.status == 0, "\(tool) -t: \(tested.stderrString)")
        let plain = source.work.appending("plain-\(ext).tar").path
        try await Self.sh("\(tool) -dc '\(bundle)' > '\(plain)'").expectSuccess()
        let listed = try await Self.sh("tar -tf '\(plain)'")
        #expect(listed.status == 0 && listed.stdoutString.contains("index.json"), "\(listed.stderrString)")
        let plainVerify = try await cli.run(["verify", plain])
        #expect(plainVerify.status == 0, "\(plainVerify.stderrString)")
        try await ProcessRunner.check(["skopeo", "inspect", "--raw", "oci-archive:\(plain):\(source.appRef)"])

        let verify = try await cli.run(["verify", bundle])
        #expect(verify.status == 0, "\(verify.stderrString)")
        #expect(verify.stdoutString.contains("OK"), "\(verify.stdoutString)")

        let images = try await cli.run(["images", bundle])
        #expect(images.status == 0, "\(images.stderrString)")
        #expect(Set(images.stdoutString.split(separator: "\n").map(String.init)) == [source.appRef, source.toolRef])

        let state = source.work.appending("state-\(ext)")
        let load = try await cli.run(["load", bundle, "--to", "\(target.address)/air"], environment: ["XDG_STATE_HOME": state.path])
        #expect(load.status == 0, "\(load.stderrString)")
        #expect(try await LoadKit.servedDigest("\(target.address)/air/demo/app:1.0") == source.app.digest)
        #expect(try await LoadKit.servedDigest("\(target.address)/air/demo/tool:2.0") == source.tool.digest)
        // Blobs were lent as spool files, one at a time, and removed after their upload.
        let spool = state.path + "/ferry/spool"
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).filter { $0.hasSuffix(".unpacked") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("random access: a blob in the middle is read by decoding its own frames, not the bundle before it")
    func randomAccess() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let bundle = source.work.appending("r.tar.zst").path
        let save = try await CLI().run(["save", "--quiet", "-o", bundle, source.appRef, source.toolRef])
        try #require(save.status == 0, "\(save.stderrString)")

        let file = try CompressedTarFile(path: bundle)
        let index = try #require(file.index)
        #expect(index.frames.count > 4)
        let entries = try TarReader.entries(size: index.contentSize, path: bundle) { o, c throws(StoreError) in
            do { return try file.read(at: o, count: c) } catch { throw StoreError(.corrupt, "\(error)") }
        }
        // The largest blob past the first third of the tar.
        let blob = try #require(entries.filter { $0.name.hasPrefix("blobs/sha256/") && $0.dataOffset > index.contentSize / 3 }.max { $0.size < $1.size })
        let frame = try #require(index.frame(containing: blob.dataOffset))
        #expect(frame.contentOffset == blob.dataOffset - 512, "each member starts a frame")

        let fresh = try CompressedTarFile(path: bundle)
        var hasher = SHA256()
        try fresh.read(from: blob.dataOffset, count: blob.size) { hasher.update($0) }
        #expect("blobs/sha256/" + hasher.hexDigest() == blob.name)
        // Only the blob's own frames were read: far less than everything before it.
        let before = frame.outputOffset
        #expect(before > 0)
        #expect(fresh.compressedBytesRead < before, "read \(fresh.compressedBytesRead) compressed bytes; \(before) come before the blob")
        let blobFrames = index.frames.filter { $0.contentOffset < blob.dataOffset + blob.size && $0.contentOffset + $0.contentSize > frame.contentOffset }
        #expect(fresh.compressedBytesRead <= blobFrames.reduce(0) { $0 + $1.outputSize } + (256 << 10))
    }

    @Test("SIGKILL half way through a .tar.zst save of several images: the rerun keeps finished blobs and frames, and the bundle verifies")
    func killAndResume() async throws {
        let f = try await SaveCommandTests.Fixture(layerSize: 6_000_000)
        defer { f.registry.stop() }
        let proxy = try await DL.Proxy.start(upstream: f.registry.address, faults: ["throttle=4000000,path=/blobs/"])
        defer { proxy.stop() }
        let bundle = f.work.appending("k.tar.zst").path
        let args = ["save", "--quiet", "--jobs", "1", "--connections", "1", "--chunk-size", "1MiB", "-o", bundle,
                    "\(proxy.address)/demo/app:1.0", "\(proxy.address)/demo/tool:2.0"]
        let cli = try CLI()
        let first = try spawn([Binaries.ferry.path] + args, in: f.work, environment: ["HOME": cli.home.path])
        defer { first.stop() }
        let frames = bundle + ".partial.ferry/frames"
        // Kill once some frames are durable and a later blob is being fetched.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let recorded = ((try? FileManager.default.attributesOfItem(atPath: frames))?[.size] as? Int) ?? 0
            let staging = ((try? FileManager.default.contentsOfDirectory(atPath: bundle + ".partial.ferry")) ?? []).contains { $0.hasSuffix(".journal") }
            if recorded >= 16 * 4 && staging { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(first.pid, SIGKILL)
        _ = first.waitForExit(.seconds(5))
        #expect(!FileManager.default.fileExists(atPath: bundle), "nothing at the final path before it is complete")
        let recorded = ((try? FileManager.default.attributesOfItem(atPath: frames))?[.size] as? Int) ?? 0
        try #require(recorded >= 16 * 4, "no frames were durable before the kill")
        let firstStats = try await proxy.stats()

        try await proxy.reset()
        try await proxy.setFaults(#"[{"kind":"throttle","value":4000000,"path":"/blobs/"}]"#)
        let second = try await cli.run(args)
        #expect(second.status == 0, "\(second.stderrString)")
        let secondStats = try await proxy.stats()
        // Every blob once, plus at most the chunk in flight at the kill (one connection) and socket buffers.
        let total = f.multi.blobs.reduce(0) { $0 + $1.size } + f.docker.blobs.reduce(0) { $0 + $1.size }
        #expect(secondStats.blobBytes < total, "the rerun fetched \(secondStats.blobBytes) of \(total) blob bytes")
        #expect(firstStats.blobBytes + secondStats.blobBytes <= total + (1 << 20) + DownloadResumeTests.socketBuffers,
                "\(firstStats.blobBytes) + \(secondStats.blobBytes) bytes for \(total)")

        let verify = try await cli.run(["verify", bundle])
        #expect(verify.status == 0, "\(verify.stderrString)")
        try await Self.sh("zstd -t '\(bundle)'").expectSuccess()
        let plain = f.work.appending("k.tar").path
        try await Self.sh("zstd -dc '\(bundle)' > '\(plain)'").expectSuccess()
        try await ProcessRunner.check(["skopeo", "inspect", "--raw", "oci-archive:\(plain):\(proxy.address)/demo/app:1.0"])
    }

    @Test("a foreign tar | gzip and tar | zstd without an index are read in order: verify and load work", arguments: ["gzip", "zstd"])
    func foreignSequential(_ tool: String) async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let cli = try CLI()
        let tar = try await source.bundle("f", [source.appRef, source.toolRef])
        let foreign = source.work.appending("foreign.tar.\(tool == "gzip" ? "gz" : "zst")").path
        try await Self.sh("\(tool) -c < '\(tar)' > '\(foreign)'").expectSuccess()
        #expect(try CompressedTarFile(path: foreign).index == nil)

        let verify = try await cli.run(["verify", foreign])
        #expect(verify.status == 0, "\(verify.stderrString)")
        let load = try await cli.run(["load", foreign, "--to", "\(target.address)/seq"], environment: ["XDG_STATE_HOME": source.work.appending("st").path])
        #expect(load.status == 0, "\(load.stderrString)")
        #expect(try await LoadKit.servedDigest("\(target.address)/seq/demo/app:1.0") == source.app.digest)
    }

    @Test("a lying index, a damaged frame and a truncated bundle are refused with a clear error", arguments: ["zst", "gz"])
    func hostile(_ ext: String) async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let cli = try CLI()
        let bundle = source.work.appending("h.tar.\(ext)").path
        let save = try await cli.run(["save", "--quiet", "-o", bundle, source.appRef, source.toolRef])
        try #require(save.status == 0, "\(save.stderrString)")
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundle)))
        let index = try #require(try CompressedTarFile(path: bundle).index)
        // Where the entries of the index lie: zstd after the 8-byte skippable header, gzip after the 16-byte member header.
        let entries = Int(index.dataSize) + (ext == "zst" ? 8 : 16)

        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = source.work.appending(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        var cases: [(String, [UInt8])] = []
        // Two frames' sizes swapped: the entries still add up to the file, but no longer match the stream.
        var swapped = good
        let other = try #require(index.frames.firstIndex { $0.contentSize != index.frames[0].contentSize && $0.outputSize != index.frames[0].outputSize })
        for i in 0..<8 { swapped.swapAt(entries + i, entries + 8 * other + i) }
        cases.append(("swapped.tar.\(ext)", swapped))
        // A frame claims more compressed bytes than the file holds.
        var huge = good
        huge[entries + 3] = 0x7f
        cases.append(("huge.tar.\(ext)", huge))
        // A flipped byte inside the data of the third frame.
        var flipped = good
        flipped[Int(index.frames[3].outputOffset + index.frames[3].outputSize / 2)] ^= 0xff
        cases.append(("flipped.tar.\(ext)", flipped))
        // Cut in the middle: no index at the end, and the stream stops inside a frame.
        cases.append(("cut.tar.\(ext)", Array(good[0..<good.count / 2])))
        // A footer claiming 2^32 - 1 frames (zstd: Number_Of_Frames; gzip: the count after Index_Size).
        var count = good
        let countAt = ext == "zst" ? good.count - 9 : good.count - 42 + 24
        for i in 0..<4 { count[countAt + i] = 0xff }
        cases.append(("count.tar.\(ext)", count))
        if ext == "gz" {
            // Index_Size of 2^64 - 1: once a trap in every reader (verify, load, images, chart scans).
            var size = good
            for i in 16..<24 { size[good.count - 42 + i] = 0xff }
            cases.append(("indexsize.tar.\(ext)", size))
        }

        for (name, bytes) in cases {
            let path = try write(name, bytes)
            let verify = try await cli.run(["verify", path])
            #expect(verify.status != 0, "\(name): verify accepted it")
            let said = verify.stderrString + verify.stdoutString
            #expect(["index", "corrupt", "truncated", "damaged", "digest"].contains { said.contains($0) }, "\(name): \(said)")
            #expect(!said.contains("Fatal error"), "\(name): \(said)")
            let load = try await cli.run(["load", path, "--to", "127.0.0.1:1/x"], environment: ["XDG_STATE_HOME": source.work.appending("st-\(name)").path])
            #expect(load.status != 0, "\(name): load accepted it")
            #expect(!load.stderrString.contains("Fatal error"), "\(name): \(load.stderrString)")
        }
    }

    @Test("--compress-level is refused for a plain .tar and outside each format's levels, before any registry is asked")
    func compressLevelChecked() async throws {
        let cli = try CLI()
        let dir = try TemporaryDirectory()
        // Nothing listens on 127.0.0.1:1: a check that came after resolving the image would fail with exit 1, not 2.
        for (output, level) in [("a.tar", "3"), ("b.tar.zst", "0"), ("c.tar.zst", "20"), ("d.tar.gz", "0"), ("e.tar.gz", "10")] {
            let path = dir.appending(output).path
            let save = try await cli.run(["save", "--quiet", "--compress-level", level, "-o", path, "127.0.0.1:1/demo/app:1.0"])
            #expect(save.status == 2, "\(output) at level \(level): \(save.status) \(save.stderrString)")
            #expect(save.stderrString.contains("--compress-level"), "\(output): \(save.stderrString)")
            #expect(!FileManager.default.fileExists(atPath: path + ".partial"), "\(output): a partial bundle was started")
        }
        // The ends of the ranges are accepted.
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        for (output, level) in [("top.tar.gz", "9"), ("low.tar.zst", "1")] {
            let path = source.work.appending(output).path
            let save = try await cli.run(["save", "--quiet", "--compress-level", level, "-o", path, source.toolRef])
            #expect(save.status == 0, "\(output) at level \(level): \(save.stderrString)")
        }
    }

    @Test("a sink that fails (the file size limit as a full disk) stops the downloads in flight instead of finishing them")
    func failingSinkStopsDownloads() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let layer = 3_000_000
        let image = try ImageBuilder.write(
            ImageSpec(layers: [LayerSpec(size: layer), LayerSpec(size: layer), LayerSpec(size: layer), LayerSpec(size: layer)], mediaTypes: .docker, seed: 41),
            to: work.appending("img"), tag: "1.0")
        try await Seeder(registry).push(image, to: "demo/big", tag: "1.0")
        // 1 MB/s a connection: a layer takes seconds, while a failure reaches the downloads in milliseconds.
        let proxy = try await DL.Proxy.start(upstream: registry.address, faults: ["throttle=1000000,path=/blobs/"])
        defer { proxy.stop() }
        let cli = try CLI()
        let bundle = work.appending("s.tar.zst").path
        // Every file ferry writes may grow to 5 MiB (dash counts 512-byte blocks): each staged layer fits, the bundle
        // does not, so writing the second layer into it fails with EFBIG, as a full disk would fail it. SIGXFSZ is
        // ignored (inherited across exec) so that the write fails instead of the process being killed.
        let ferry = try Binaries.ferry.path
        let script = "trap '' XFSZ; ulimit -f 10240; exec '\(ferry)' save --quiet --jobs 2 --connections 1 -o '\(bundle)' '\(proxy.address)/demo/big:1.0'"
        let save = try await ProcessRunner.run(["sh", "-c", script], environment: ["HOME": cli.home.path, "REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": ""])
        #expect(save.status != 0, "the save succeeded past the file size limit")
        #expect(!save.stderrString.contains("Fatal error"), "\(save.stderrString)")
        #expect(!FileManager.default.fileExists(atPath: bundle))
        // Two layers were written when the sink failed, and the next two had just started: stopped at once they add
        // little; finished (the writer waiting for the next whole blob while the other runs on) they add 6 MB.
        let stats = try await proxy.stats()
        #expect(stats.blobBytes < 3 * layer, "\(stats.blobBytes) blob bytes served after the sink failed at about \(2 * layer)")
    }
}

extension ProcessResult {
    func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self.status == 0, "\(self.stderrString)", sourceLocation: sourceLocation)
    }
}

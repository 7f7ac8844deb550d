import Foundation
import OCI
import TestSupport
import Testing

/// What users carry across the gap today, `docker save … | gzip > images.tar.gz` (and `| zstd`, and a foreign OCI
/// `tar | gzip`), as a source for `ferry load`, `ferry copy` and `ferry images`: read forward only, at most two
/// decompression passes (counted with `FERRY_DEBUG=passes`), never an uncompressed copy, pass 1 cached for reruns.
@Suite struct CompressedDockerSaveTests {
    struct Fixture {
        let registry: TestRegistry
        let work: TemporaryDirectory
        let app: BuiltImage
        let tool: BuiltImage
        let cli: CLI
        /// The old-style docker save archive, uncompressed (for comparison) and as `| gzip`.
        let plain: String
        let gzipped: String
        var state: String { self.work.appending("state").path }
        var environment: [String: String] { ["XDG_STATE_HOME": self.state, "FERRY_DEBUG": "passes"] }

        init(layerSize: Int = 700_000) async throws {
            self.registry = try await RegistryLauncher.launch(.http)
            self.work = try TemporaryDirectory(prefix: "ferry-zdocker-")
            self.app = try ImageBuilder.write(
                ImageSpec(layers: [LayerSpec(size: layerSize), LayerSpec(size: 300_000, compressible: true)], mediaTypes: .docker, seed: 91),
                to: self.work.appending("app"), tag: "1.0")
            self.tool = try ImageBuilder.write(
                ImageSpec(layers: [LayerSpec(size: layerSize), LayerSpec(size: 5000)], mediaTypes: .docker, seed: 91),
                to: self.work.appending("tool"), tag: "2.0")
            self.cli = try CLI()
            self.plain = self.work.appending("images.tar").path
            self.gzipped = self.plain + ".gz"
            try ArchiveWriter.dockerSave([(self.app, ["ferry-test/app:1.0"]), (self.tool, ["ferry-test/tool:2.0"])], to: self.plain)
            try await ProcessRunner.check(["gzip", "-k", self.plain])
        }

        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await self.cli.run(arguments, environment: self.environment)
        }

        /// Config digest and DiffIDs as skopeo reads them from the registry, against the image built.
        func expectServed(_ image: BuiltImage, as reference: String) async throws {
            #expect(try await Served.configDigest(reference) == image.manifests[0].config.digest, "\(reference): the config is pushed as stored")
            let want = image.manifests[0].layers.map(\.diffID)
            #expect(try await Served.diffIDs(reference) == want)
            #expect(try await Served.layerDiffIDs(reference, work: self.work) == want, "\(reference): the pushed layers unpack to the DiffIDs")
        }
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test("docker save | gzip loads in exactly two passes, with the digests of the same archive uncompressed; a rerun reuses pass 1 and decompresses nothing")
    func gzipDockerSaveLoads() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }

        let listed = try await f.run(["images", f.gzipped])
        #expect(listed.status == 0, "\(listed.stderrString)")
        #expect(Set(listed.stdoutString.split(separator: "\n").map(String.init)) == ["docker.io/ferry-test/app:1.0", "docker.io/ferry-test/tool:2.0"], "\(listed.stdoutString)")

        let load = try await f.run(["load", "--quiet", "--tls-verify=false", "--jobs", "2", f.gzipped, "--to", "\(f.registry.address)/gz"])
        #expect(load.status == 0, "\(load.stderrString)")
        #expect(Self.count("pass 1 of \(f.gzipped): decompressed", in: load.stderrString) == 1, "\(load.stderrString)")
        #expect(Self.count("pass 2 of \(f.gzipped)", in: load.stderrString) == 1, "\(load.stderrString)")
        #expect(!load.stderrString.contains("extra pass"), "\(load.stderrString)")
        try await f.expectServed(f.app, as: "docker://\(f.registry.address)/gz/ferry-test/app:1.0")
        try await f.expectServed(f.tool, as: "docker://\(f.registry.address)/gz/ferry-test/tool:2.0")

        // The same images from the uncompressed archive get the same manifest digests: both passes compress alike.
        let plain = try await f.run(["load", "--quiet", "--tls-verify=false", f.plain, "--to", "\(f.registry.address)/plain"])
        #expect(plain.status == 0, "\(plain.stderrString)")
        let digests = { (r: ProcessResult) in r.stdoutString.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" }.sorted() }
        #expect(digests(load) == digests(plain) && digests(load).count == 2, "\(load.stdoutString) vs \(plain.stdoutString)")
        for line in load.stdoutString.split(separator: "\n") {
            let parts = line.split(separator: " ")
            #expect(try await LoadKit.servedDigest(String(parts[0])) == String(parts[1]))
        }

        // Everything is there now: pass 1 comes from the cache, and pass 2 does not run at all.
        let again = try await f.run(["load", "--progress", "plain", "--tls-verify=false", f.gzipped, "--to", "\(f.registry.address)/gz"])
        #expect(again.status == 0, "\(again.stderrString)")
        #expect(again.stderrString.contains("pass 1 of \(f.gzipped) reused"), "\(again.stderrString)")
        #expect(!again.stderrString.contains("decompressed"), "\(again.stderrString)")
        #expect(again.stderrString.contains(" 0 blobs uploaded"), "\(again.stderrString)")
        #expect(again.stdoutString == load.stdoutString)
        let spool = (try? FileManager.default.contentsOfDirectory(atPath: f.state + "/ferry/spool")) ?? []
        #expect(spool.isEmpty, "spool files are removed once uploaded: \(spool)")
    }

    @Test("docker save | zstd and multi-member gzip: ferry copy docker-archive:FILE:REPO:TAG into oci:DIR and a registry, in two passes")
    func zstdAndMultiMemberCopy() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        let zstd = f.plain + ".zst"
        try await ProcessRunner.check(["zstd", "-q", "-k", f.plain, "-o", zstd])
        // Two gzip members, split inside a tar member: one valid gzip stream (as `pigz --independent` or `cat a.gz b.gz`).
        let multi = f.work.appending("multi.tar.gz").path
        try await ProcessRunner.check(["sh", "-c", "head -c 1000000 \"$1\" | gzip > \"$2\" && tail -c +1000001 \"$1\" | gzip >> \"$2\"", "sh", f.plain, multi])

        let layout = f.work.appending("layout").path
        let copy = try await f.run(["copy", "--quiet", "docker-archive:\(zstd):ferry-test/tool:2.0", "oci:\(layout):tool"])
        #expect(copy.status == 0, "\(copy.stderrString)")
        #expect(Self.count("decompressed", in: copy.stderrString) == 2, "two passes: \(copy.stderrString)")
        try LayoutCheck.verify(layout)
        // skopeo 1.9 reads only OCI-typed index entries, and a docker save gives Docker-typed images: read it here.
        let entries = try LayoutCheck.entries(layout)
        #expect(entries.map(\.refName) == ["tool"])
        let top = try #require(entries.first)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(top.digest.dropFirst(7))")))
        #expect(manifest.config.digest.description == f.tool.manifests[0].config.digest)
        #expect(manifest.layers.count == 2 && manifest.layers.allSatisfy { $0.mediaType == .dockerLayerGzip })
        let listed = try await f.run(["images", zstd])
        #expect(listed.stdoutString.contains("docker.io/ferry-test/tool:2.0"), "\(listed.stdoutString) \(listed.stderrString)")

        let byIndex = try await f.run(["copy", "--quiet", "--tls-verify=false", "docker-archive:\(multi):@0", "docker://\(f.registry.address)/multi/app:1"])
        #expect(byIndex.status == 0, "\(byIndex.stderrString)")
        #expect(Self.count("decompressed", in: byIndex.stderrString) == 2, "\(byIndex.stderrString)")
        try await f.expectServed(f.app, as: "docker://\(f.registry.address)/multi/app:1")

        let load = try await f.run(["load", "--quiet", "--tls-verify=false", zstd, "--to", "\(f.registry.address)/zst"])
        #expect(load.status == 0, "\(load.stderrString)")
        try await f.expectServed(f.tool, as: "docker://\(f.registry.address)/zst/ferry-test/tool:2.0")
    }

    @Test("a foreign OCI layout as tar | gzip loads with its manifest digest, in two passes")
    func foreignOCITarGzip() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        let dir = f.work.appending("oci")
        let image = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: 400_000), LayerSpec(size: 2000)], seed: 92), name: "quay.io/foreign/app:3.1", at: dir)
        let archive = f.work.appending("oci.tar.gz").path
        try await ProcessRunner.check(["tar", "-C", dir.path, "-czf", archive, "."])

        let listed = try await f.run(["images", archive])
        #expect(listed.stdoutString.contains("quay.io/foreign/app:3.1"), "\(listed.stdoutString) \(listed.stderrString)")
        let load = try await f.run(["load", "--quiet", "--tls-verify=false", archive, "--to", "\(f.registry.address)/oci"])
        #expect(load.status == 0, "\(load.stderrString)")
        #expect(Self.count("decompressed", in: load.stderrString) == 2, "\(load.stderrString)")
        #expect(try await LoadKit.servedDigest("\(f.registry.address)/oci/foreign/app:3.1") == image.manifests[0].manifest.digest)
    }

    @Test("SIGKILL during the uploads of a gzip docker save: the rerun reuses pass 1 and completes")
    func killAndResume() async throws {
        let f = try await Fixture(layerSize: 6_000_000)
        defer { f.registry.stop() }
        let proxy = try await UploadProxy.start(upstream: f.registry.address, faults: ["hold,method=PATCH"])
        defer { proxy.stop() }
        let args = ["load", "--tls-verify=false", "--jobs", "1", "--upload-chunk-size", "\(4 << 20)", f.gzipped, "--to", "\(proxy.address)/k"]
        let first = try spawn([try Binaries.ferry.path] + args + ["--quiet"], in: f.work, environment: f.environment.merging(["HOME": f.cli.home.path]) { $1 })
        defer { first.stop() }
        try await proxy.waitFor("the first PATCH") { $0.held == 1 }
        kill(first.pid, SIGKILL)
        _ = first.waitForExit(.seconds(5))
        try await proxy.reset()

        let second = try await f.run(args)
        #expect(second.status == 0, "\(second.stderrString)")
        #expect(second.stderrString.contains("pass 1 of \(f.gzipped) reused"), "\(second.stderrString)")
        #expect(!second.stderrString.contains("pass 1 of \(f.gzipped): decompressed"), "\(second.stderrString)")
        #expect(Self.count("pass 2 of", in: second.stderrString) <= 1 && !second.stderrString.contains("extra pass"), "\(second.stderrString)")
        try await f.expectServed(f.app, as: "docker://\(f.registry.address)/k/ferry-test/app:1.0")
        try await f.expectServed(f.tool, as: "docker://\(f.registry.address)/k/ferry-test/tool:2.0")
    }

    @Test("a truncated or corrupt gzip stream and a layer that does not match its DiffID are refused, nothing pushed")
    func hostileCompressedArchives() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        let data = try Data(contentsOf: URL(fileURLWithPath: f.gzipped))
        let truncated = f.work.appending("truncated.tar.gz").path
        try data.prefix(data.count * 2 / 3).write(to: URL(fileURLWithPath: truncated))
        var corrupt = data
        for i in stride(from: data.count / 2, to: data.count / 2 + 64, by: 1) { corrupt[i] ^= 0x5a }
        let damaged = f.work.appending("corrupt.tar.gz").path
        try corrupt.write(to: URL(fileURLWithPath: damaged))

        for (archive, words) in [(truncated, "truncated"), (damaged, "corrupt")] {
            let load = try await f.run(["load", "--quiet", "--tls-verify=false", archive, "--to", "\(f.registry.address)/bad"])
            #expect(load.status == 1, "\(archive): \(load.stderrString)")
            #expect(load.stderrString.contains(archive) && load.stderrString.contains(words), "\(load.stderrString)")
            let copy = try await f.run(["copy", "--quiet", "docker-archive:\(archive):ferry-test/app:1.0", "oci:\(f.work.appending("bad-layout").path)"])
            #expect(copy.status == 1, "\(copy.stderrString)")
        }

        // The tool's config claims a DiffID the layer does not have.
        var config = try ArchiveWriter.config(f.tool)
        let real = f.tool.manifests[0].layers[1].diffID
        let fake = "sha256:" + String(repeating: "0", count: 64)
        config = Array(String(decoding: config, as: UTF8.self).replacingOccurrences(of: real, with: fake).utf8)
        let layer = try ArchiveWriter.uncompressed(f.tool.manifests[0].layers[1], of: f.tool)
        let configName = Codec_sha256(Data(config)) + ".json"
        let manifest = #"[{"Config":"\#(configName)","RepoTags":["ferry-test/liar:1"],"Layers":["l/layer.tar"]}]"#
        // One layer only, so the config's DiffID list must say one: keep the first (real) entry out.
        let one = String(decoding: config, as: UTF8.self).replacingOccurrences(of: "\"\(f.tool.manifests[0].layers[0].diffID)\",", with: "")
        let liar = f.work.appending("liar.tar").path
        try ArchiveWriter.tar([
            ArchiveWriter.Member(name: "l/layer.tar", bytes: layer),
            ArchiveWriter.Member(name: Codec_sha256(Data(one.utf8)) + ".json", bytes: Array(one.utf8)),
            ArchiveWriter.Member(name: "manifest.json", bytes: Array(manifest.replacingOccurrences(of: configName, with: Codec_sha256(Data(one.utf8)) + ".json").utf8)),
        ], to: liar)
        try await ProcessRunner.check(["gzip", liar])
        let lie = try await f.run(["load", "--quiet", "--tls-verify=false", liar + ".gz", "--to", "\(f.registry.address)/bad"])
        #expect(lie.status == 1, "\(lie.stderrString)")
        #expect(lie.stderrString.contains("DiffID"), "\(lie.stderrString)")

        // A link out of the archive, and a manifest.json no real archive has (17 MiB): refused before any push.
        let escape = f.work.appending("escape.tar").path
        try ArchiveWriter.tar([
            ArchiveWriter.Member(name: "l/layer.tar", kind: .symbolicLink, link: "../../etc/passwd"),
            ArchiveWriter.Member(name: "manifest.json", bytes: Array(#"[{"Config":"c.json","RepoTags":["ferry-test/app:1.0"],"Layers":["l/layer.tar"]}]"#.utf8)),
        ], to: escape)
        let huge = f.work.appending("huge.tar").path
        try ArchiveWriter.tar([ArchiveWriter.Member(name: "manifest.json", bytes: Array("[".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 17 << 20) + Array("]".utf8))], to: huge)
        for (archive, words) in [(escape, "leaves the archive"), (huge, "manifest.json")] {
            try await ProcessRunner.check(["gzip", archive])
            let load = try await f.run(["load", "--quiet", "--tls-verify=false", archive + ".gz", "--to", "\(f.registry.address)/bad"])
            #expect(load.status == 1, "\(archive): \(load.stderrString)")
            #expect(load.stderrString.contains(words), "\(load.stderrString)")
        }

        let catalog = try await ProcessRunner.run(["skopeo", "list-tags", "--tls-verify=false", "docker://\(f.registry.address)/bad/ferry-test/app"])
        #expect(catalog.status != 0, "nothing was pushed: \(catalog.stdoutString)")
        let liarTags = try await ProcessRunner.run(["skopeo", "list-tags", "--tls-verify=false", "docker://\(f.registry.address)/bad/ferry-test/liar"])
        #expect(liarTags.status != 0, "nothing was pushed: \(liarTags.stdoutString)")
    }
}

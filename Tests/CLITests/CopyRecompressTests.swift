import Foundation
import OCI
import TestSupport
import Testing

/// `ferry copy --dest-compress`: layers rewritten, manifests and media types updated, DiffIDs and configs unchanged,
/// and the result read by skopeo and by the system's `zstd`/`gzip`.
@Suite struct CopyRecompressTests {
    static let spec = ImageSpec(
        layers: [LayerSpec(size: 400_000, compressible: true), LayerSpec(size: 1_500_000, compressible: true), LayerSpec(size: 300_000)],
        mediaTypes: .docker, platforms: ["linux/amd64", "linux/arm64/v8"], attestation: true, seed: 11)

    /// The layers of every image manifest reachable from a layout entry, with their config.
    static func images(_ layout: String, top: String) throws -> [(manifest: Manifest, mediaType: MediaType)] {
        func read(_ digest: Digest) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(digest.hex)")))
        }
        let entry = try #require(try JSONDecoder().decode(ImageIndex.self, from: Data(read(try Digest(top)))) as ImageIndex?)
        return try entry.manifests.map { child in
            (try JSONDecoder().decode(Manifest.self, from: Data(read(child.digest))), child.mediaType)
        }
    }

    /// sha256 of a compressed blob's decompressed bytes, by the system tool.
    static func diffID(_ path: String, tool: String) async throws -> String {
        let out = try await ProcessRunner.check([tool, "-dc", path])
        return "sha256:" + Codec_sha256(out.stdout)
    }

    @Test("docker:// → oci: with zstd: Docker list becomes OCI, layers zstd, configs and DiffIDs unchanged, skopeo pushes it")
    func zstdToLayout() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(Self.spec, to: work.appending("src"), tag: "1.0")
        try await Seeder(registry).push(image, to: "rc/app", tag: "1.0")

        let cli = try CLI()
        let layout = work.appending("out").path
        let result = try await cli.run(["copy", "--dest-compress", "zstd", "docker://\(registry.address)/rc/app:1.0", "oci:\(layout)"])
        #expect(result.status == 0, "\(result.stderrString)")
        let digest = result.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(digest != image.digest, "a recompressed image has a new digest")
        #expect(result.stderrString.contains("recompressed 6 layers with zstd -3"), "\(result.stderrString)")

        try LayoutCheck.verify(layout)
        let entries = try LayoutCheck.entries(layout)
        #expect(entries.map(\.digest) == [digest])
        #expect(entries.first?.mediaType == MediaType.ociIndex.rawValue)

        let children = try Self.images(layout, top: digest)
        let runnable = Array(Swift.zip(children, image.manifests))
        #expect(runnable.count == image.manifests.count)
        #expect(runnable.filter { !$0.1.isAttestation }.count == 2)
        for (child, original) in runnable where !original.isAttestation {
            #expect(child.mediaType == .ociManifest)
            #expect(child.manifest.config.digest.description == original.config.digest, "the config (and its DiffIDs) is unchanged")
            #expect(child.manifest.config.mediaType == .ociConfig)
            #expect(child.manifest.layers.count == original.layers.count)
            for (layer, source) in zip(child.manifest.layers, original.layers) {
                #expect(layer.mediaType == .ociLayerZstd)
                let path = "\(layout)/blobs/sha256/\(layer.digest.hex)"
                let magic = try #require(FileHandle(forReadingAtPath: path)).readData(ofLength: 4)
                #expect([UInt8](magic) == [0x28, 0xb5, 0x2f, 0xfd])
                #expect(try await Self.diffID(path, tool: "zstd") == source.diffID)
            }
        }
        // The attestation still names the image it describes, by its new digest.
        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(String(digest.dropFirst(7)))")))
        let attestation = try #require(index.manifests.first { $0.isAttestation })
        let described = try #require(attestation.annotations?[AnnotationKey.dockerReferenceDigest])
        #expect(index.manifests.contains { $0.digest.description == described && !$0.isAttestation })

        // skopeo takes the layout as it is: the registry computes the same index digest.
        try await ProcessRunner.check(["skopeo", "copy", "--all", "--dest-tls-verify=false", "oci:\(layout):\(registry.address)/rc/app:1.0", "docker://\(registry.address)/rc/zstd:1.0"])
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.address)/rc/zstd:1.0"])
        #expect("sha256:" + Codec_sha256(raw.stdout) == digest)

        // Run again: the recoded layers are found in place, nothing is fetched or recoded.
        let again = try await cli.run(["copy", "--dest-compress", "zstd", "docker://\(registry.address)/rc/app:1.0", "oci:\(layout)"])
        #expect(again.status == 0, "\(again.stderrString)")
        #expect(again.stderrString.contains("0 blobs fetched"), "\(again.stderrString)")
        #expect(again.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == digest, "the same recompression gives the same digest")
    }

    @Test("docker:// → docker:// with zstd, then oci: → docker:// back to gzip: DiffIDs survive both")
    func registryRoundTrip() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        var spec = Self.spec
        spec.platforms = []
        spec.attestation = false
        spec.mediaTypes = .oci
        let image = try ImageBuilder.write(spec, to: work.appending("src"), tag: "1.0")
        try await Seeder(registry).push(image, to: "rc/one", tag: "1.0")
        let original = try #require(image.manifests.first)
        let cli = try CLI()

        let zstd = try await cli.run(["copy", "--dest-compress", "zstd", "--dest-compress-level", "5", "docker://\(registry.address)/rc/one:1.0", "docker://\(registry.address)/rc/one:zstd"])
        #expect(zstd.status == 0, "\(zstd.stderrString)")
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.address)/rc/one:zstd"])
        let pushed = try JSONDecoder().decode(Manifest.self, from: raw.stdout)
        #expect(pushed.layers.allSatisfy { $0.mediaType == .ociLayerZstd })
        #expect(pushed.config.digest.description == original.config.digest)
        #expect("sha256:" + Codec_sha256(raw.stdout) == zstd.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines))

        // Fetch the zstd image as it is, then push it back as gzip from the layout.
        let layout = work.appending("z").path
        let fetched = try await cli.run(["copy", "docker://\(registry.address)/rc/one:zstd", "oci:\(layout)"])
        #expect(fetched.status == 0, "\(fetched.stderrString)")
        for (layer, source) in zip(pushed.layers, original.layers) {
            #expect(try await Self.diffID("\(layout)/blobs/sha256/\(layer.digest.hex)", tool: "zstd") == source.diffID)
        }
        let gzip = try await cli.run(["copy", "--dest-compress", "gzip", "oci:\(layout)", "docker://\(registry.address)/rc/one:gzip"])
        #expect(gzip.status == 0, "\(gzip.stderrString)")
        let back = try await cli.run(["copy", "docker://\(registry.address)/rc/one:gzip", "oci:\(work.appending("g").path)"])
        #expect(back.status == 0, "\(back.stderrString)")
        let top = try Digest(back.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines))
        let gzipped = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(work.appending("g").path)/blobs/sha256/\(top.hex)")))
        #expect(gzipped.config.digest.description == original.config.digest)
        #expect(gzipped.layers.count == original.layers.count)
        for (layer, source) in zip(gzipped.layers, original.layers) {
            #expect(layer.mediaType == .ociLayerGzip)
            let path = "\(work.appending("g").path)/blobs/sha256/\(layer.digest.hex)"
            try await ProcessRunner.check(["gzip", "-t", path])
            #expect(try await Self.diffID(path, tool: "gzip") == source.diffID)
        }
    }

    @Test("--dest-compress where it does not apply, or with a bad name, is a usage error")
    func refused() async throws {
        let cli = try CLI()
        let bad = try await cli.run(["copy", "--dest-compress", "brotli", "docker://127.0.0.1:1/a:1", "oci:/tmp/x"])
        #expect(bad.status == 2)
        #expect(bad.stderrString.contains("gzip or zstd"))
        let level = try await cli.run(["copy", "--dest-compress", "gzip", "--dest-compress-level", "12", "docker://127.0.0.1:1/a:1", "oci:/tmp/x"])
        #expect(level.status == 2)
        #expect(level.stderrString.contains("1 to 9"))
        let alone = try await cli.run(["copy", "--dest-compress-level", "3", "docker://127.0.0.1:1/a:1", "oci:/tmp/x"])
        #expect(alone.status == 2)
    }
}

import Foundation
import TestSupport
import Testing

@Suite("TestSupport: synthetic images")
struct TestSupportImageBuilderTests {
    static let mib = 1 << 20

    @Test("a small OCI image is a consistent layout")
    func smallOCIImage() async throws {
        let dir = try TemporaryDirectory()
        let spec = ImageSpec(
            layers: [
                LayerSpec(size: Self.mib + 123, compressible: true),
                LayerSpec(size: 2 * Self.mib),
                LayerSpec(size: 0),
                LayerSpec(size: 300_000, compressible: true, gzipLevel: 9),
            ],
            seed: 7)
        let image = try ImageBuilder.write(spec, to: dir.url, tag: "v1")
        #expect(image.mediaType == "application/vnd.oci.image.manifest.v1+json")
        #expect(!image.isIndex)
        #expect(image.manifests.count == 1)
        let manifest = try #require(image.manifests.first)
        #expect(manifest.platform == "linux/amd64")
        #expect(manifest.config.mediaType == "application/vnd.oci.image.config.v1+json")
        #expect(manifest.layers.allSatisfy { $0.blob.mediaType == "application/vnd.oci.image.layer.v1.tar+gzip" })
        #expect(image.blobs.count == 1 + 1 + 4)
        #expect(image.totalBytes == image.blobs.reduce(0) { $0 + $1.size })
        try await LayoutChecks.verify(image)

        let layers = manifest.layers
        // Log-like text at gzip -1 shrinks several times; random bytes stored at level 0 grow by the framing only.
        #expect(layers[0].blob.size * 3 < layers[0].uncompressedSize)
        #expect(layers[1].blob.size > layers[1].uncompressedSize)
        #expect(layers[1].blob.size < layers[1].uncompressedSize + 4096)
        #expect(layers[3].blob.size * 3 < layers[3].uncompressedSize)
        #expect(
            layers.map(\.uncompressedSize) == [
                512 + Self.mib + 123 + (512 - 123) + 1024, 512 + 2 * Self.mib + 1024, 512 + 1024, 512 + 300_032 + 1024,
            ])
    }

    @Test("a multi-arch Docker image with attestations is a consistent layout")
    func multiArchDockerImage() async throws {
        let dir = try TemporaryDirectory()
        let spec = ImageSpec(
            layers: [LayerSpec(size: 700_000, compressible: true), LayerSpec(size: 1_000_000)],
            mediaTypes: .docker, platforms: ["linux/amd64", "linux/arm64/v8"], attestation: true, seed: 11)
        let image = try ImageBuilder.write(spec, to: dir.url, tag: "multi")
        #expect(image.isIndex)
        #expect(image.mediaType == "application/vnd.docker.distribution.manifest.list.v2+json")
        #expect(
            image.manifests.map(\.platform) == ["linux/amd64", "linux/arm64/v8", "unknown/unknown", "unknown/unknown"])
        #expect(image.platformManifests.count == 2)
        for manifest in image.platformManifests {
            #expect(manifest.manifest.mediaType == "application/vnd.docker.distribution.manifest.v2+json")
            #expect(manifest.config.mediaType == "application/vnd.docker.container.image.v1+json")
            #expect(
                manifest.layers.allSatisfy { $0.blob.mediaType == "application/vnd.docker.image.rootfs.diff.tar.gzip" })
        }
        // Platforms get different layers, as real multi-arch images do.
        #expect(Set(image.manifests[0].layers.map(\.diffID)).isDisjoint(with: image.manifests[1].layers.map(\.diffID)))
        try await LayoutChecks.verify(image)

        let index = try LayoutChecks.json(image.path(of: image.digest))
        let entries = try #require(index["manifests"] as? [[String: Any]])
        let attestations = entries.filter {
            ($0["annotations"] as? [String: String])?["vnd.docker.reference.type"] == "attestation-manifest"
        }
        #expect(attestations.count == 2)
        #expect(
            attestations.map { ($0["annotations"] as? [String: String])?["vnd.docker.reference.digest"] }
                == image.platformManifests.map(\.manifest.digest))
        #expect(
            attestations.allSatisfy {
                ($0["platform"] as? [String: String]) == ["os": "unknown", "architecture": "unknown"]
            })
    }

    @Test("the same spec gives the same digests; another seed gives others")
    func deterministic() throws {
        let a = try TemporaryDirectory()
        let b = try TemporaryDirectory()
        let spec = ImageSpec(layers: [LayerSpec(size: 200_000, compressible: true), LayerSpec(size: 100_000)], seed: 3)
        let first = try ImageBuilder.write(spec, to: a.url)
        let second = try ImageBuilder.write(spec, to: b.url)
        #expect(first.digest == second.digest)
        #expect(first.blobs == second.blobs)
        var other = spec
        other.seed = 4
        let third = try ImageBuilder.write(other, to: b.url, tag: "other")
        #expect(third.digest != first.digest)
        #expect(Set(third.blobs.map(\.digest)).isDisjoint(with: first.blobs.map(\.digest)))
        // Both images now share one layout, each under its own tag.
        let index = try LayoutChecks.json(b.url.appendingPathComponent("index.json"))
        #expect((index["manifests"] as? [[String: Any]])?.count == 2)
    }

    @Test("ImageSpec.big splits the bytes over the layers")
    func bigSpec() {
        let spec = ImageSpec.big(totalBytes: 2 << 30, layers: 30)
        #expect(spec.layers.count == 30)
        #expect(spec.layers.reduce(0) { $0 + $1.size } == 2 << 30)
        #expect(spec.layers.allSatisfy { !$0.compressible && $0.gzipLevel == nil })
    }
}

/// Checks a generated layout with independent tools (`sha256sum`, `gzip`, `tar`), not with the code that wrote it.
enum LayoutChecks {
    static func json(_ url: URL) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: Any], "\(url.path) is not a JSON object")
    }

    static func sha256sum(_ url: URL) async throws -> String {
        let result = try await ProcessRunner.check(["sha256sum", url.path])
        return "sha256:" + String(result.stdoutString.prefix(64))
    }

    static func sha256sum(_ data: Data) async throws -> String {
        let result = try await ProcessRunner.check(["sha256sum"], stdin: data)
        return "sha256:" + String(result.stdoutString.prefix(64))
    }

    /// Every blob file is named by its sha256, the files are exactly the image's blobs, sizes match,
    /// `index.json` lists the image under its tag, and manifests, configs and layers agree with each other.
    static func verify(_ image: BuiltImage) async throws {
        let layout = image.layout
        #expect(FileManager.default.fileExists(atPath: layout.appendingPathComponent("oci-layout").path))
        let files = try FileManager.default.contentsOfDirectory(
            atPath: layout.appendingPathComponent("blobs/sha256").path)
        #expect(
            Set(files) == Set(image.blobs.map(\.hex)), "blobs/sha256 holds exactly the image's blobs, no temp files")
        for blob in image.blobs {
            let path = image.path(of: blob.digest)
            #expect(try await self.sha256sum(path) == blob.digest)
            let size = try FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int
            #expect(size == blob.size, "size of \(blob.digest)")
        }

        let index = try self.json(layout.appendingPathComponent("index.json"))
        let entries = try #require(index["manifests"] as? [[String: Any]])
        let entry = try #require(
            entries.first {
                ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == image.tag
            })
        #expect(entry["digest"] as? String == image.digest)
        #expect(entry["size"] as? Int == image.top.size)
        #expect(entry["mediaType"] as? String == image.mediaType)

        if image.isIndex {
            let top = try self.json(image.path(of: image.digest))
            #expect(top["mediaType"] as? String == image.mediaType)
            let children = try #require(top["manifests"] as? [[String: Any]])
            #expect(children.map { $0["digest"] as? String } == image.manifests.map(\.manifest.digest))
            for (child, manifest) in zip(children, image.manifests) {
                let platform = try #require(child["platform"] as? [String: String])
                let expected = [platform["os"], platform["architecture"], platform["variant"]].compactMap { $0 }
                #expect(expected.joined(separator: "/") == manifest.platform)
                #expect(child["size"] as? Int == manifest.manifest.size)
                #expect(child["mediaType"] as? String == manifest.manifest.mediaType)
            }
        }

        for manifest in image.manifests {
            let document = try self.json(image.path(of: manifest.manifest.digest))
            #expect(document["schemaVersion"] as? Int == 2)
            #expect(document["mediaType"] as? String == manifest.manifest.mediaType)
            let config = try #require(document["config"] as? [String: Any])
            #expect(config["digest"] as? String == manifest.config.digest)
            #expect(config["size"] as? Int == manifest.config.size)
            #expect(config["mediaType"] as? String == manifest.config.mediaType)
            let layers = try #require(document["layers"] as? [[String: Any]])
            #expect(layers.map { $0["digest"] as? String } == manifest.layers.map(\.blob.digest))
            #expect(layers.map { $0["size"] as? Int } == manifest.layers.map(\.blob.size))
            #expect(layers.map { $0["mediaType"] as? String } == manifest.layers.map(\.blob.mediaType))

            let configDocument = try self.json(image.path(of: manifest.config.digest))
            let rootfs = try #require(configDocument["rootfs"] as? [String: Any])
            let diffIDs = try #require(rootfs["diff_ids"] as? [String])
            #expect(diffIDs == manifest.layers.map(\.diffID))
            if manifest.isAttestation { continue }
            #expect(
                [configDocument["os"], configDocument["architecture"], configDocument["variant"]]
                    .compactMap { $0 as? String }.joined(separator: "/") == manifest.platform)

            for layer in manifest.layers {
                let path = image.path(of: layer.blob.digest)
                let tar = try await ProcessRunner.check(["gzip", "-dc", path.path]).stdout
                #expect(tar.count == layer.uncompressedSize)
                #expect(try await self.sha256sum(tar) == layer.diffID, "diff_id is sha256 of the uncompressed tar")
                let listing = try await ProcessRunner.check(["tar", "-tvzf", path.path]).stdoutString
                let lines = listing.split(separator: "\n")
                #expect(lines.count == 1, "one file per layer: \(listing)")
                let fields = lines.first?.split(separator: " ", omittingEmptySubsequences: true) ?? []
                #expect(fields.first == "-rw-r--r--")
                #expect(fields.last.map(String.init) == layer.fileName)
                // header + data + padding to 512 + two zero blocks
                let size = try #require(fields.count > 2 ? Int(fields[2]) : nil)
                #expect(512 + size + (512 - size % 512) % 512 + 1024 == layer.uncompressedSize)
            }
        }
    }
}

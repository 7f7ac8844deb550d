import Codec
import Foundation
import OCI
import Stores
import TestSupport
import Testing
@testable import Mirror

/// `LayerRecoder` and `PlanRewrite` on a layout built here: DiffIDs checked, damaged input refused, unchanged
/// manifests kept byte for byte.
@Suite struct RecompressTests {
    /// A layout holding one zstd layer, its config (with `diffID`, right or wrong) and a manifest.
    struct Fixture {
        let directory: TemporaryDirectory
        let plan: ImagePlan
        let content: [UInt8]
        let source: ArchiveSource

        init(diffID: String? = nil, layerBytes: [UInt8]? = nil) throws {
            self.directory = try TemporaryDirectory()
            let layout = try OCILayout(creatingAt: self.directory.appending("layout").path)
            self.content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
            let layer = try layerBytes ?? ZstdEncoder.compress(self.content)
            let layerDigest = try Digest(sha256Hex: SHA256.hexDigest(layer))
            try layout.writeBlob(layer, digest: layerDigest)
            let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(diffID ?? "sha256:" + SHA256.hexDigest(self.content))"]}}"#.utf8)
            let configDigest = try Digest(sha256Hex: SHA256.hexDigest(config))
            try layout.writeBlob(config, digest: configDigest)
            let manifest = Manifest(
                config: Descriptor(mediaType: .ociConfig, digest: configDigest, size: Int64(config.count)),
                layers: [Descriptor(mediaType: .ociLayerZstd, digest: layerDigest, size: Int64(layer.count))])
            let raw = try RawManifest(encoding: .image(manifest))
            let stored = ImagePlan.StoredManifest(raw: raw, digest: try Digest(sha256Hex: SHA256.hexDigest(raw.bytes)))
            try layout.writeBlob(raw.bytes, digest: stored.digest)
            try layout.addToIndex(stored.descriptor)
            self.plan = ImagePlan(source: try Reference(parsing: "example.com/app:1"), top: stored, manifests: [stored], blobs: manifest.blobs)
            self.source = try ArchiveSource(opening: layout.root)
        }

        func recoder(_ compression: LayerCompression) -> LayerRecoder {
            LayerRecoder(compression: compression, source: self.source, directory: self.directory.appending("recoded").path, progress: nil)
        }
    }

    @Test("zstd → gzip: new layer decompresses to the DiffID, config untouched, manifest re-encoded")
    func recodes() async throws {
        let fixture = try Fixture()
        let outcome = try await fixture.recoder(.gzip(level: 6)).recode(fixture.plan, jobs: 2)
        #expect(outcome.layers == 1)
        #expect(outcome.plan.top.digest != fixture.plan.top.digest)
        guard case .image(let manifest) = try outcome.plan.top.raw.parse() else { Issue.record("not an image"); return }
        #expect(manifest.config == fixture.plan.blobs[0])
        let layer = try #require(manifest.layers.first)
        #expect(layer.mediaType == .ociLayerGzip)
        let file = try #require(outcome.files[layer.digest])
        let unpacked = try await ProcessRunner.check(["gzip", "-dc", file])
        #expect([UInt8](unpacked.stdout) == fixture.content)
        #expect(SHA256.hexDigest(outcome.plan.top.raw.bytes) == outcome.plan.top.digest.hex)
    }

    @Test("a config whose DiffID does not match the layer's content stops the rewrite, leaving no file behind")
    func wrongDiffID() async throws {
        let fixture = try Fixture(diffID: "sha256:" + String(repeating: "ab", count: 32))
        await #expect {
            _ = try await fixture.recoder(.gzip(level: 1)).recode(fixture.plan, jobs: 1)
        } throws: { error in
            "\(error)".contains("DiffID")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: fixture.directory.appending("recoded").path)) ?? []
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("a layer that is not valid zstd is refused with the layer named")
    func corruptLayer() async throws {
        var bytes = try ZstdEncoder.compress((0..<100_000).map { UInt8(truncatingIfNeeded: $0) })
        bytes[bytes.count / 2] ^= 0xff
        bytes[bytes.count / 2 + 1] ^= 0x55
        let fixture = try Fixture(layerBytes: bytes)
        await #expect {
            _ = try await fixture.recoder(.gzip(level: 1)).recode(fixture.plan, jobs: 1)
        } throws: { error in
            let text = "\(error)"
            return text.contains("cannot be recompressed") || text.contains("DiffID")
        }
    }

    @Test("layers already in the wanted compression are left alone: the plan keeps its bytes and digest")
    func nothingToDo() async throws {
        let fixture = try Fixture()
        let outcome = try await fixture.recoder(.zstd(level: 3)).recode(fixture.plan, jobs: 1)
        #expect(outcome.layers == 0)
        #expect(outcome.plan.top.raw.bytes == fixture.plan.top.raw.bytes)
        #expect(outcome.files.isEmpty)
    }

    @Test("media types: what each compression rewrites, and the family it writes")
    func mediaTypes() throws {
        let zstd = try LayerCompression(parsing: "zstd")
        let gzip = try LayerCompression(parsing: "GZIP", level: 9)
        #expect(zstd == .zstd(level: 3))
        #expect(gzip == .gzip(level: 9))
        #expect(zstd.rewrites(.dockerLayerGzip) && zstd.rewrites(.ociLayer) && !zstd.rewrites(.ociLayerZstd))
        #expect(!gzip.rewrites(.dockerLayerGzip) && gzip.rewrites(.ociLayerZstd))
        #expect(!zstd.rewrites(.dockerForeignLayer) && !zstd.rewrites("application/vnd.cncf.helm.chart.content.v1.tar+gzip"))
        #expect(gzip.layerType(oci: false) == .dockerLayerGzip && zstd.layerType(oci: false) == .ociLayerZstd)
        #expect(throws: MirrorError.self) { try LayerCompression(parsing: "zstd", level: 22) }
    }
}

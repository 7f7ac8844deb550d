import Foundation
import OCI
import Testing

@Suite("RawManifest: parsing")
struct RawManifestParseTests {
    func parse(_ json: String, as served: MediaType? = nil) throws(OCIError) -> ManifestContent {
        try RawManifest(bytes: json.bytes, mediaType: served).parse()
    }

    @Test func ociManifest() throws {
        guard case .image(let manifest) = try self.parse(Fixtures.ociManifest, as: .ociManifest) else {
            Issue.record("not an image manifest")
            return
        }
        #expect(manifest.schemaVersion == 2)
        #expect(manifest.mediaType == .ociManifest)
        #expect(manifest.config.digest == Fixtures.digest(Fixtures.hexA))
        #expect(manifest.config.size == 1472)
        #expect(manifest.layers.map(\.mediaType) == [.ociLayerGzip, .ociLayerZstd])
        #expect(manifest.layers.map(\.size) == [29_124_534, 628])
        #expect(manifest.blobs.map(\.digest.hex) == [Fixtures.hexA, Fixtures.hexB, Fixtures.hexC])
        #expect(manifest.annotations?["org.opencontainers.image.created"] == "2025-05-01T12:00:00Z")
        #expect(manifest.subject == nil)
    }

    @Test func ociIndexWithAttestation() throws {
        guard case .index(let index) = try self.parse(Fixtures.ociIndexWithAttestation) else {
            Issue.record("not an index")
            return
        }
        #expect(index.mediaType == .ociIndex)
        #expect(index.manifests.count == 3)
        #expect(index.manifests[2].isAttestation)
        #expect(index.manifests[2].annotations?[AnnotationKey.dockerReferenceDigest] == "sha256:\(Fixtures.hexA)")
        #expect(index.platforms.map(\.description) == ["linux/amd64", "linux/arm64/v8"])
    }

    @Test func dockerManifest() throws {
        guard case .image(let manifest) = try self.parse(Fixtures.dockerManifest, as: .dockerManifest) else {
            Issue.record("not an image manifest")
            return
        }
        #expect(manifest.mediaType == .dockerManifest)
        #expect(manifest.config.mediaType == .dockerConfig)
        #expect(manifest.layers.count == 2)
        #expect(manifest.layers[1].mediaType == .dockerForeignLayer)
        #expect(manifest.layers[1].urls?.first?.hasPrefix("https://mcr.microsoft.com/") == true)
    }

    @Test func dockerManifestList() throws {
        guard case .index(let index) = try self.parse(Fixtures.dockerManifestList, as: .dockerManifestList) else {
            Issue.record("not an index")
            return
        }
        #expect(index.mediaType == .dockerManifestList)
        #expect(index.manifests.allSatisfy { $0.mediaType == .dockerManifest })
        let windows = try #require(index.manifests.last?.platform)
        #expect(windows.osVersion == "10.0.17763.6532")
        #expect(windows.osFeatures == ["win32k"])
    }

    @Test func artifactWithSubject() throws {
        let content = try self.parse(Fixtures.artifactManifest)
        guard case .image(let manifest) = content else {
            Issue.record("not an image manifest")
            return
        }
        #expect(manifest.artifactType == "application/vnd.dev.cosign.artifact.sig.v1+json")
        #expect(manifest.config == .empty)
        #expect(content.subject?.digest == Fixtures.digest(Fixtures.hexA))
        #expect(content.subject?.mediaType == .ociIndex)
        #expect(content.references.count == 2, "subject is not part of the content")
    }

    @Test func mediaTypeFieldDisagreeingWithServedTypeIsRefused() {
        do {
            _ = try self.parse(Fixtures.mislabelled, as: .ociManifest)
            Issue.record("accepted a Docker manifest served as OCI")
        } catch {
            #expect(error.code == .invalidManifest)
            #expect(error.message.contains("application/vnd.docker.distribution.manifest.v2+json"))
            #expect(error.message.contains("served as \"application/vnd.oci.image.manifest.v1+json\""))
        }
    }

    @Test func indexServedAsImageManifestIsRefused() {
        #expect(throws: OCIError.self) { try self.parse(Fixtures.ociIndexWithoutMediaType, as: .ociManifest) }
    }

    @Test func schemaVersionMustBe2() {
        let json = Fixtures.ociManifestWithoutMediaType.replacingOccurrences(
            of: "\"schemaVersion\":2",
            with: "\"schemaVersion\":3"
        )
        #expect(throws: OCIError(code: .invalidManifest, message: "invalid manifest: manifest (application/vnd.oci.image.manifest.v1+json): schemaVersion is 3, expected 2")) {
            try self.parse(json)
        }
    }

    @Test(
        "reports where a manifest is broken",
        arguments: [
            (#"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:abc","size":1},"layers":[]}"#,
             "field \"config.digest\": invalid digest \"sha256:abc\""),
            (#"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:\#(Fixtures.hexA)","size":1},"layers":[{"mediaType":"a/b","digest":"sha256:\#(Fixtures.hexB)","size":-1}]}"#,
             "field \"layers[0].size\": size -1 is negative"),
            (#"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:\#(Fixtures.hexA)"},"layers":[]}"#,
             "missing field \"config.size\""),
            (#"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"sha256:\#(Fixtures.hexA)","size":1,"platform":{"os":"linux"}}]}"#,
             "missing field \"manifests[0].platform.architecture\""),
        ]
    )
    func reportsWhere(json: String, because: String) {
        do {
            _ = try self.parse(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.code == .invalidManifest)
            #expect(error.message.contains(because), "message: \(error.message)")
        }
    }

    @Test func encodingRoundTrips() throws {
        let original = try self.parse(Fixtures.dockerManifestList)
        let raw = try RawManifest(encoding: original)
        #expect(raw.mediaType == .dockerManifestList)
        #expect(try raw.parse() == original)
        // Sorted keys: encoding is deterministic, so the digest of a manifest Ferry writes is too.
        #expect(try RawManifest(encoding: original).bytes == raw.bytes)
        let text = String(decoding: raw.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"manifests":[{"digest":"sha256:"#))
        #expect(text.contains(#""os.version":"10.0.17763.6532""#))
    }

    @Test func encodingWithoutMediaTypeFallsBackToOCI() throws {
        let manifest = Manifest(mediaType: nil, config: .empty, layers: [])
        #expect(try RawManifest(encoding: .image(manifest)).mediaType == .ociManifest)
        let index = ImageIndex(mediaType: nil, manifests: [])
        #expect(try RawManifest(encoding: .index(index)).mediaType == .ociIndex)
    }
}

import Foundation
import OCI
import Testing

@Suite("Descriptor")
struct DescriptorTests {
    /// The top-level keys of a JSON object.
    func keys(_ data: Data) throws -> Set<String> {
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return Set(object.keys)
    }

    @Test func roundTripsEveryField() throws {
        let descriptor = Descriptor(
            mediaType: .ociManifest,
            digest: Fixtures.digest(Fixtures.hexA),
            size: 1022,
            urls: ["https://example.com/blob"],
            annotations: [AnnotationKey.refName: "docker.io/library/nginx:1.27"],
            platform: Platform(os: "linux", architecture: "arm64", variant: "v8"),
            artifactType: "application/vnd.example+json"
        )
        let data = try JSONEncoder().encode(descriptor)
        let keys: Set = ["mediaType", "digest", "size", "urls", "annotations", "platform", "artifactType"]
        #expect(try self.keys(data) == keys)
        #expect(try JSONDecoder().decode(Descriptor.self, from: data) == descriptor)
    }

    @Test func omitsNilFields() throws {
        let descriptor = Descriptor(mediaType: .ociLayerGzip, digest: Fixtures.digest(Fixtures.hexB), size: 29_124_534)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(descriptor), as: UTF8.self)
        let expected = #"{"digest":"sha256:\#(Fixtures.hexB)","#
            + #""mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":29124534}"#
        #expect(json == expected)
    }

    /// A layer descriptor's JSON with the given size and digest fields.
    static func layer(size: String, digest: String = "sha256:\(Fixtures.hexC)") -> String {
        #"{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(digest)","size":\#(size)}"#
    }

    @Test func decodesSizesBeyond32Bits() throws {
        let json = Self.layer(size: "10737418240")
        let descriptor = try JSONDecoder().decode(Descriptor.self, from: Data(json.utf8))
        #expect(descriptor.size == 10 * 1024 * 1024 * 1024)
    }

    @Test(
        "decoding refuses broken descriptors",
        arguments: [
            DescriptorTests.layer(size: "-1"),
            DescriptorTests.layer(size: "1", digest: "sha256:abc"),
            DescriptorTests.layer(size: "1", digest: "md5:d41d8cd98f00b204e9800998ecf8427e"),
            DescriptorTests.layer(size: "\"1\""),
            DescriptorTests.layer(size: "1.5"),
            #"{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:\#(Fixtures.hexC)"}"#,
            #"{"digest":"sha256:\#(Fixtures.hexC)","size":1}"#,
        ]
    )
    func refuses(json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Descriptor.self, from: Data(json.utf8))
        }
    }

    @Test func negativeSizeSaysSo() {
        let json = Self.layer(size: "-5")
        do {
            _ = try JSONDecoder().decode(Descriptor.self, from: Data(json.utf8))
            Issue.record("decoded a negative size")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == "size -5 is negative")
            #expect(context.codingPath.map(\.stringValue) == ["size"])
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func attestationByPlatformOrAnnotation() {
        let digest = Fixtures.digest(Fixtures.hexA)
        let byPlatform = Descriptor(
            mediaType: .ociManifest,
            digest: digest,
            size: 1,
            platform: Platform(os: "unknown", architecture: "unknown")
        )
        let byAnnotation = Descriptor(
            mediaType: .ociManifest,
            digest: digest,
            size: 1,
            annotations: [AnnotationKey.dockerReferenceType: "attestation-manifest"]
        )
        let image = Descriptor(mediaType: .ociManifest, digest: digest, size: 1, platform: .linuxAMD64)
        #expect(byPlatform.isAttestation)
        #expect(byAnnotation.isAttestation)
        #expect(!image.isAttestation)
    }

    @Test func emptyDescriptorIsTheSpecOne() {
        #expect(Descriptor.empty.mediaType == .ociEmpty)
        #expect(Descriptor.empty.size == 2)
        #expect(Descriptor.empty.digest.description
            == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    }
}

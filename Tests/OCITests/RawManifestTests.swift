import Foundation
import OCI
import Testing

@Suite("RawManifest: media type detection")
struct RawManifestDetectionTests {
    @Test(
        "detects the media type when the served one says nothing",
        arguments: [
            ("ociManifest", MediaType.ociManifest),
            ("ociIndexWithAttestation", .ociIndex),
            ("dockerManifest", .dockerManifest),
            ("dockerManifestList", .dockerManifestList),
            ("ociManifestWithoutMediaType", .ociManifest),
            ("ociIndexWithoutMediaType", .ociIndex),
            ("artifactManifest", .ociManifest),
        ]
    )
    func detects(fixture: String, expected: MediaType) throws {
        let json = try #require(Fixtures.named[fixture])
        for served: MediaType? in [nil, "", "application/json", "text/plain", "application/octet-stream",
                                   "application/json; charset=utf-8"] {
            let raw = try RawManifest(bytes: json.bytes, mediaType: served)
            #expect(raw.mediaType == expected, "served as \(served?.rawValue ?? "nil")")
        }
    }

    @Test func keepsASpecificServedType() throws {
        // No mediaType field in the body: the registry's Content-Type is all there is, and it is kept.
        let raw = try RawManifest(bytes: Fixtures.ociManifestWithoutMediaType.bytes, mediaType: .dockerManifest)
        #expect(raw.mediaType == .dockerManifest)
    }

    @Test func dropsContentTypeParameters() throws {
        let served = MediaType("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8")
        let raw = try RawManifest(bytes: Fixtures.dockerManifest.bytes, mediaType: served)
        #expect(raw.mediaType == .dockerManifest)
    }

    @Test func keepsTheBytesExactly() throws {
        let raw = try RawManifest(bytes: Fixtures.dockerManifestList.bytes, mediaType: nil)
        #expect(raw.bytes == Fixtures.dockerManifestList.bytes)
        #expect(raw.size == Int64(Fixtures.dockerManifestList.utf8.count))
        let descriptor = raw.descriptor(digest: Fixtures.digest(Fixtures.hexG), platform: .linuxAMD64)
        #expect(descriptor.mediaType == .dockerManifestList)
        #expect(descriptor.size == raw.size)
        #expect(descriptor.platform == .linuxAMD64)
    }

    @Test(
        "refuses schema 1, whatever it is served as",
        arguments: [nil, "application/json", MediaType.dockerManifestV1Signed, .dockerManifestV1, .dockerManifest]
    )
    func refusesSchema1(served: MediaType?) {
        do {
            let raw = try RawManifest(bytes: Fixtures.schema1Manifest.bytes, mediaType: served)
            Issue.record("accepted schema 1 as \(raw.mediaType)")
        } catch {
            #expect(error.code == .unsupportedMediaType)
            #expect(error.message.contains("schema 1"))
            #expect(error.message.contains("deprecated"))
            #expect(error.message.contains("re-push"))
        }
    }

    @Test func refusesSchema1ByDeclaredType() {
        let json = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}"#
        #expect(throws: OCIError.self) { try RawManifest(bytes: json.bytes, mediaType: nil) }
    }

    @Test(
        "refuses types that are not manifests",
        arguments: [MediaType("text/html"), .ociConfig, .ociLayerGzip, "application/vnd.oci.artifact.manifest.v1+json"]
    )
    func refusesOtherTypes(served: MediaType) {
        do {
            _ = try RawManifest(bytes: Fixtures.ociManifest.bytes, mediaType: served)
            Issue.record("accepted \(served)")
        } catch {
            #expect(error.code == .unsupportedMediaType)
            #expect(error.message.contains(served.rawValue))
        }
    }

    @Test func refusesAnUnknownDeclaredType() {
        let json = #"{"schemaVersion":2,"mediaType":"application/vnd.example.thing+json","manifests":[]}"#
        #expect(throws: OCIError.self) { try RawManifest(bytes: json.bytes, mediaType: "application/json") }
    }

    @Test(
        "refuses bodies that are not manifest JSON",
        arguments: [
            ("<html><body>502 Bad Gateway</body></html>", "not valid JSON"),
            ("", "not valid JSON"),
            ("[1, 2]", "not an object"),
            ("{}", "neither \"manifests\""),
            (#"{"schemaVersion":"2","manifests":[]}"#, "\"schemaVersion\" is not an integer"),
        ]
    )
    func refusesNonManifests(body: String, because: String) {
        do {
            _ = try RawManifest(bytes: body.bytes, mediaType: nil)
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.code == .invalidManifest)
            #expect(error.message.contains(because), "message: \(error.message)")
        }
    }

    @Test func refusesInvalidJSONEvenWhenTheTypeIsKnown() {
        #expect(throws: OCIError(code: .invalidManifest, message: "invalid manifest: not valid JSON")) {
            try RawManifest(bytes: Array("{\"schemaVersion\":2,".utf8), mediaType: .ociManifest)
        }
    }
}

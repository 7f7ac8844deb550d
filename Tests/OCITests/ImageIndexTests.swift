import OCI
import Testing

@Suite("ImageIndex")
struct ImageIndexTests {
    func index(_ json: String) throws -> ImageIndex {
        guard case .index(let index) = try RawManifest(bytes: json.bytes, mediaType: nil).parse() else {
            throw OCIError(code: .invalidManifest, message: "fixture is not an index")
        }
        return index
    }

    @Test(
        "selects the child for a platform from a manifest list",
        arguments: [
            ("linux/amd64", Fixtures.hexA),
            ("linux/x86_64", Fixtures.hexA),
            ("linux/arm/v6", Fixtures.hexB),
            ("linux/arm/v7", Fixtures.hexC),
            // No variant: containerd's default (arm/v7) wins over the earlier arm/v6.
            ("linux/arm", Fixtures.hexC),
            ("linux/arm64", Fixtures.hexD),
            ("linux/arm64/v8", Fixtures.hexD),
            ("linux/aarch64", Fixtures.hexD),
            ("windows/amd64", Fixtures.hexE),
        ]
    )
    func selects(platform: String, hex: String) throws {
        let index = try self.index(Fixtures.dockerManifestList)
        let child = try #require(index.select(try Platform(parsing: platform)))
        #expect(child.digest.hex == hex)
    }

    @Test func selectsNothingForAMissingPlatform() throws {
        let index = try self.index(Fixtures.dockerManifestList)
        #expect(index.select(try Platform(parsing: "linux/s390x")) == nil)
        #expect(index.select(try Platform(parsing: "linux/arm64/v9")) == nil)
    }

    @Test func neverSelectsAnAttestation() throws {
        let index = try self.index(Fixtures.ociIndexWithAttestation)
        #expect(index.select(try Platform(parsing: "unknown/unknown")) == nil)
        #expect(index.select(.linuxAMD64)?.digest.hex == Fixtures.hexA)
        #expect(index.select(.linuxARM64)?.digest.hex == Fixtures.hexB)
    }

    @Test func skipsChildrenWithoutPlatform() {
        let noPlatform = Descriptor(mediaType: .ociManifest, digest: Fixtures.digest(Fixtures.hexA), size: 10)
        let amd64 = Descriptor(
            mediaType: .ociManifest,
            digest: Fixtures.digest(Fixtures.hexB),
            size: 10,
            platform: .linuxAMD64
        )
        let index = ImageIndex(manifests: [noPlatform, amd64])
        #expect(index.select(.linuxAMD64) == amd64)
        #expect(index.platforms == [.linuxAMD64])
    }

    @Test func platformsLeaveOutAttestationsAndKeepOrder() throws {
        let index = try self.index(Fixtures.dockerManifestList)
        #expect(index.platforms.map(\.description) == [
            "linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64/v8", "windows/amd64",
        ])
        let withAttestation = try self.index(Fixtures.ociIndexWithAttestation)
        #expect(withAttestation.platforms.count == 2)
        #expect(!withAttestation.platforms.contains { $0.isAttestation })
    }

    @Test func contentReferencesChildren() throws {
        let content = try RawManifest(bytes: Fixtures.ociIndexWithAttestation.bytes, mediaType: nil).parse()
        #expect(content.references.map(\.digest.hex) == [Fixtures.hexA, Fixtures.hexB, Fixtures.hexC])
        #expect(content.mediaType == .ociIndex)
        #expect(content.subject == nil)
    }
}

@Suite("OCIError")
struct OCIErrorTests {
    @Test func descriptionIsTheMessage() {
        let error = OCIError(code: .invalidPlatform, message: "invalid platform \"x\": because")
        #expect(error.description == error.message)
        #expect("\(error)" == "invalid platform \"x\": because")
    }

    @Test func codesCompareByKind() {
        #expect(OCIError.Code.invalidDigest == .invalidDigest)
        #expect(OCIError.Code.invalidDigest != .invalidReference)
        #expect(OCIError.Code.unsupportedMediaType.description == "unsupportedMediaType")
    }
}

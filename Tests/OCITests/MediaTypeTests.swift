import Foundation
import OCI
import Testing

/// How a media type must classify.
struct MediaTypeCase: Sendable, CustomTestStringConvertible {
    var type: MediaType
    var isIndex = false
    var isImageManifest = false
    var isDocker = false
    var isLayer = false
    var isConfig = false
    var isNondistributable = false

    var testDescription: String { self.type.rawValue }
}

let mediaTypeCases: [MediaTypeCase] = [
    .init(type: .ociIndex, isIndex: true),
    .init(type: .ociManifest, isImageManifest: true),
    .init(type: .dockerManifestList, isIndex: true, isDocker: true),
    .init(type: .dockerManifest, isImageManifest: true, isDocker: true),
    .init(type: .ociConfig, isConfig: true),
    .init(type: .dockerConfig, isDocker: true, isConfig: true),
    .init(type: .ociLayer, isLayer: true),
    .init(type: .ociLayerGzip, isLayer: true),
    .init(type: .ociLayerZstd, isLayer: true),
    .init(type: .ociLayerNondistributableGzip, isLayer: true, isNondistributable: true),
    .init(type: .dockerLayerGzip, isDocker: true, isLayer: true),
    .init(type: .dockerForeignLayer, isDocker: true, isLayer: true, isNondistributable: true),
    .init(type: .dockerManifestV1Signed, isDocker: true),
    .init(type: .ociEmpty),
    .init(type: "application/vnd.in-toto+json"),
    .init(type: "application/json"),
]

@Suite("MediaType")
struct MediaTypeTests {
    @Test("classifies", arguments: mediaTypeCases)
    func classifies(_ expected: MediaTypeCase) {
        let type = expected.type
        #expect(type.isIndex == expected.isIndex)
        #expect(type.isImageManifest == expected.isImageManifest)
        #expect(type.isManifest == (expected.isIndex || expected.isImageManifest))
        #expect(type.isDocker == expected.isDocker)
        #expect(type.isLayer == expected.isLayer)
        #expect(type.isConfig == expected.isConfig)
        #expect(type.isNondistributable == expected.isNondistributable)
    }

    @Test func specStrings() {
        #expect(MediaType.ociManifest.rawValue == "application/vnd.oci.image.manifest.v1+json")
        #expect(MediaType.ociIndex.rawValue == "application/vnd.oci.image.index.v1+json")
        #expect(MediaType.ociEmpty.rawValue == "application/vnd.oci.empty.v1+json")
        #expect(MediaType.dockerManifest.rawValue == "application/vnd.docker.distribution.manifest.v2+json")
        #expect(MediaType.dockerManifestList.rawValue == "application/vnd.docker.distribution.manifest.list.v2+json")
        #expect(MediaType.dockerManifestV1.rawValue == "application/vnd.docker.distribution.manifest.v1+json")
        #expect(
            MediaType.dockerManifestV1Signed.rawValue == "application/vnd.docker.distribution.manifest.v1+prettyjws"
        )
        #expect(MediaType.dockerManifestV1.isSchema1 && MediaType.dockerManifestV1Signed.isSchema1)
    }

    @Test func manifestAcceptListsTheFourManifestTypes() {
        #expect(MediaType.manifestAccept == [.ociIndex, .ociManifest, .dockerManifestList, .dockerManifest])
        #expect(MediaType.manifestAccept.allSatisfy { $0.isManifest })
    }

    @Test(
        "reads a Content-Type header",
        arguments: [
            ("application/vnd.docker.distribution.manifest.v2+json", MediaType.dockerManifest),
            ("application/vnd.oci.image.index.v1+json; charset=utf-8", .ociIndex),
            ("  Application/VND.OCI.Image.Manifest.v1+JSON ", .ociManifest),
            ("application/json;charset=UTF-8", "application/json"),
            ("", ""),
        ]
    )
    func contentType(header: String, expected: MediaType) {
        #expect(MediaType(contentType: header) == expected)
    }

    @Test func codableAsAPlainString() throws {
        let data = try JSONEncoder().encode([MediaType.ociLayerZstd])
        #expect(String(decoding: data, as: UTF8.self) == "[\"application\\/vnd.oci.image.layer.v1.tar+zstd\"]")
        #expect(try JSONDecoder().decode([MediaType].self, from: data) == [.ociLayerZstd])
    }

    @Test func literalsAndDescription() {
        let type: MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
        #expect(type == .ociLayerGzip)
        #expect(type.description == type.rawValue)
        #expect(MediaType("x/y") == MediaType(rawValue: "x/y"))
    }
}

import Foundation

/// Manifest bytes exactly as served: they define the digest, so they are never re-encoded.
public struct RawManifest: Sendable, Hashable {
    public let bytes: [UInt8]
    /// The manifest's media type: as served when that is specific, else detected from the body.
    public let mediaType: MediaType

    /// Wraps served bytes, settling their media type.
    ///
    /// A `mediaType` that is nil or generic (`application/json`, `text/plain`, empty) is replaced by the
    /// body's `mediaType` field, else by its shape (`manifests` → OCI index, `config` + `layers` → OCI
    /// manifest). Parameters such as `; charset=utf-8` are ignored. Docker schema 1 is refused.
    public init(bytes: [UInt8], mediaType: MediaType?) throws(OCIError) {
        let served = mediaType.map { MediaType(contentType: $0.rawValue) }
        if let served, served.isSchema1 {
            throw .schema1(served)
        }
        if let served, !served.isGeneric, !served.isManifest {
            throw .unsupportedMediaType(
                "unsupported manifest media type \(quoted(served.rawValue)): Ferry handles OCI image manifests "
                    + "and indexes and Docker v2 schema 2 manifests and manifest lists"
            )
        }
        let probe = try ManifestProbe(bytes)
        if probe.schemaVersion == 1 {
            throw .schema1(served ?? probe.mediaType.map(MediaType.init(rawValue:)) ?? .dockerManifestV1)
        }
        if let served, served.isManifest {
            self.init(unchecked: bytes, mediaType: served)
        } else {
            self.init(unchecked: bytes, mediaType: try probe.detectedMediaType())
        }
    }

    /// Wraps bytes whose media type is already known (e.g. read back from a layout Ferry wrote).
    init(unchecked bytes: [UInt8], mediaType: MediaType) {
        self.bytes = bytes
        self.mediaType = mediaType
    }

    /// Encodes a manifest Ferry builds itself, with sorted keys so the same content gives the same digest.
    public init(encoding content: ManifestContent) throws(OCIError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            switch content {
            case .image(let manifest): data = try encoder.encode(manifest)
            case .index(let index): data = try encoder.encode(index)
            }
        } catch {
            throw .invalidManifest("cannot encode: \(error)")
        }
        let fallback: MediaType = if case .index = content { .ociIndex } else { .ociManifest }
        self.init(unchecked: [UInt8](data), mediaType: content.mediaType ?? fallback)
    }

    /// Size in bytes, as a descriptor records it.
    public var size: Int64 { Int64(self.bytes.count) }

    /// A descriptor for these bytes; the digest comes from the caller, since hashing is not this module's job.
    public func descriptor(digest: Digest, platform: Platform? = nil, annotations: [String: String]? = nil)
        -> Descriptor
    {
        Descriptor(
            mediaType: self.mediaType,
            digest: digest,
            size: self.size,
            annotations: annotations,
            platform: platform
        )
    }

    /// Decodes and validates the manifest: well-formed JSON of the right shape, `schemaVersion` 2, and a
    /// `mediaType` field (when present) that agrees with `mediaType`.
    public func parse() throws(OCIError) -> ManifestContent {
        let data = Data(self.bytes)
        let content: ManifestContent
        do {
            if self.mediaType.isIndex {
                content = .index(try JSONDecoder().decode(ImageIndex.self, from: data))
            } else {
                content = .image(try JSONDecoder().decode(Manifest.self, from: data))
            }
        } catch let error as DecodingError {
            throw .invalidManifest("\(self.kind): \(error.summary)")
        } catch {
            throw .invalidManifest("\(self.kind): \(error)")
        }
        let schemaVersion: Int
        switch content {
        case .image(let manifest): schemaVersion = manifest.schemaVersion
        case .index(let index): schemaVersion = index.schemaVersion
        }
        guard schemaVersion == 2 else {
            throw .invalidManifest("\(self.kind): schemaVersion is \(schemaVersion), expected 2")
        }
        if let declared = content.mediaType, declared != self.mediaType {
            throw .invalidManifest(
                "\(self.kind): its mediaType field says \(quoted(declared.rawValue)) but it was served as "
                    + "\(quoted(self.mediaType.rawValue)); the registry or the pushing tool mislabelled it, "
                    + "so re-push the image"
            )
        }
        return content
    }

    private var kind: String { self.mediaType.isIndex ? "index (\(self.mediaType))" : "manifest (\(self.mediaType))" }
}

extension OCIError {
    static func schema1(_ mediaType: MediaType) -> OCIError {
        .unsupportedMediaType(
            "unsupported manifest: Docker image manifest schema 1 (\(mediaType)) is deprecated and no longer "
                + "supported; re-push the image with a current Docker, or convert it with "
                + "`skopeo copy --format v2s2`, to get a schema 2 or OCI manifest"
        )
    }
}

/// The few top-level fields needed to tell what kind of manifest a body is, without decoding all of it.
struct ManifestProbe: Decodable {
    var schemaVersion: Int?
    var mediaType: String?
    var hasManifests: Bool
    var hasConfigAndLayers: Bool
    var hasFSLayers: Bool

    private enum CodingKeys: String, CodingKey {
        case schemaVersion, mediaType, manifests, config, layers, fsLayers
    }

    init(_ bytes: [UInt8]) throws(OCIError) {
        do {
            self = try JSONDecoder().decode(ManifestProbe.self, from: Data(bytes))
        } catch let error as DecodingError {
            if case .typeMismatch(_, let context) = error, context.codingPath.isEmpty {
                throw .invalidManifest("the body is JSON but not an object")
            }
            throw .invalidManifest(error.summary)
        } catch {
            throw .invalidManifest("\(error)")
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.schemaVersion = try container.decodeIfPresent(Int.self, forKey: .schemaVersion)
        self.mediaType = try container.decodeIfPresent(String.self, forKey: .mediaType)
        self.hasManifests = container.contains(.manifests)
        self.hasConfigAndLayers = container.contains(.config) && container.contains(.layers)
        self.hasFSLayers = container.contains(.fsLayers)
    }

    /// The media type the body declares, else the one its shape implies.
    func detectedMediaType() throws(OCIError) -> MediaType {
        if let declared = self.mediaType {
            let type = MediaType(rawValue: declared)
            if type.isSchema1 { throw .schema1(type) }
            guard type.isManifest else {
                throw .unsupportedMediaType(
                    "unsupported manifest media type \(quoted(declared)) (from the body's mediaType field): "
                        + "Ferry handles OCI image manifests and indexes and Docker v2 schema 2 manifests and lists"
                )
            }
            return type
        }
        if self.hasFSLayers { throw .schema1(.dockerManifestV1) }
        if self.hasManifests { return .ociIndex }
        if self.hasConfigAndLayers { return .ociManifest }
        throw .invalidManifest("the body has neither \"manifests\" (an index) nor \"config\" and \"layers\" (an image)")
    }
}

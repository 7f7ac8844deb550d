/// Points at content: its media type, digest and size, plus optional metadata (OCI `descriptor.md`).
public struct Descriptor: Hashable, Sendable {
    public var mediaType: MediaType
    public var digest: Digest
    /// Size in bytes; never negative.
    public var size: Int64
    /// Where a non-distributable layer can be fetched from instead of the registry.
    public var urls: [String]?
    public var annotations: [String: String]?
    /// The platform of an index entry; nil for blobs.
    public var platform: Platform?
    public var artifactType: String?

    public init(
        mediaType: MediaType,
        digest: Digest,
        size: Int64,
        urls: [String]? = nil,
        annotations: [String: String]? = nil,
        platform: Platform? = nil,
        artifactType: String? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }

    /// An attestation manifest in an index (BuildKit provenance/SBOM): platform `unknown/unknown`,
    /// or marked with `vnd.docker.reference.type: attestation-manifest`.
    public var isAttestation: Bool {
        self.platform?.isAttestation == true
            || self.annotations?[AnnotationKey.dockerReferenceType] == "attestation-manifest"
    }

    /// The descriptor of the `{}` blob that artifacts use as an empty config (image spec, "empty descriptor").
    public static let empty = Descriptor(
        mediaType: .ociEmpty,
        digest: try! Digest(sha256Hex: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
        size: 2
    )
}

extension Descriptor: Codable {
    private enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, urls, annotations, platform, artifactType
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.mediaType = try container.decode(MediaType.self, forKey: .mediaType)
        self.digest = try container.decode(Digest.self, forKey: .digest)
        self.size = try container.decode(Int64.self, forKey: .size)
        guard self.size >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .size,
                in: container,
                debugDescription: "size \(self.size) is negative"
            )
        }
        self.urls = try container.decodeIfPresent([String].self, forKey: .urls)
        self.annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        self.platform = try container.decodeIfPresent(Platform.self, forKey: .platform)
        self.artifactType = try container.decodeIfPresent(String.self, forKey: .artifactType)
    }
}

/// An image manifest: OCI (`application/vnd.oci.image.manifest.v1+json`) or Docker v2 schema 2.
public struct Manifest: Sendable, Codable, Hashable {
    public var schemaVersion: Int
    /// Required by Docker v2 schema 2, optional (but recommended) in OCI.
    public var mediaType: MediaType?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    /// The manifest this one refers to (referrers API), e.g. a signature's image.
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2,
        mediaType: MediaType? = .ociManifest,
        artifactType: String? = nil,
        config: Descriptor,
        layers: [Descriptor],
        subject: Descriptor? = nil,
        annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = subject
        self.annotations = annotations
    }

    /// Every blob the image needs: the config, then the layers in order.
    public var blobs: [Descriptor] { [self.config] + self.layers }
}

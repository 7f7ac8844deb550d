/// A list of manifests, one per platform: an OCI index or a Docker manifest list.
public struct ImageIndex: Sendable, Codable, Hashable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2,
        mediaType: MediaType? = .ociIndex,
        artifactType: String? = nil,
        manifests: [Descriptor],
        subject: Descriptor? = nil,
        annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.manifests = manifests
        self.subject = subject
        self.annotations = annotations
    }

    /// The child manifest for `platform`, never an attestation; nil when no child matches.
    ///
    /// Among matching children, one whose normalised variant equals the wanted one comes first (so
    /// `linux/arm` picks `arm/v7` over an earlier `arm/v6`, as containerd does); otherwise the first match.
    public func select(_ platform: Platform) -> Descriptor? {
        let candidates = self.manifests.filter { child in
            guard let childPlatform = child.platform, !child.isAttestation else { return false }
            return childPlatform.matches(platform)
        }
        let wantedVariant = platform.normalized.variant
        return candidates.first { $0.platform?.normalized.variant == wantedVariant } ?? candidates.first
    }

    /// The platforms of the runnable images, in index order; attestation entries are left out.
    public var platforms: [Platform] {
        self.manifests.compactMap { $0.isAttestation ? nil : $0.platform }
    }
}

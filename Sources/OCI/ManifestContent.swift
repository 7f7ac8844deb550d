/// A parsed manifest: an image, or an index of images.
public enum ManifestContent: Sendable, Hashable {
    case image(Manifest)
    case index(ImageIndex)

    /// The media type the JSON declares, if any.
    public var mediaType: MediaType? {
        switch self {
        case .image(let manifest): manifest.mediaType
        case .index(let index): index.mediaType
        }
    }

    /// What this manifest points at: config and layers for an image, child manifests for an index.
    ///
    /// `subject` is left out: it is a reference to something else, not part of this content.
    public var references: [Descriptor] {
        switch self {
        case .image(let manifest): manifest.blobs
        case .index(let index): index.manifests
        }
    }

    public var subject: Descriptor? {
        switch self {
        case .image(let manifest): manifest.subject
        case .index(let index): index.subject
        }
    }

    public var annotations: [String: String]? {
        switch self {
        case .image(let manifest): manifest.annotations
        case .index(let index): index.annotations
        }
    }
}

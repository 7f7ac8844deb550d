/// A media type naming the format of a manifest or blob, e.g. `application/vnd.oci.image.manifest.v1+json`.
public struct MediaType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// The media type of an HTTP `Content-Type` value: parameters (`; charset=utf-8`) dropped, lowercased.
    public init(contentType: String) {
        let essence = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        self.rawValue = essence.trimmingASCIIWhitespace().lowercased()
    }

    public var description: String { self.rawValue }
}

// MARK: - Known types

extension MediaType {
    // OCI image spec (media-types.md).
    public static let ociManifest: MediaType = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex: MediaType = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig: MediaType = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer: MediaType = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip: MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd: MediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
    // Deprecated by the spec but still found in old Windows images; registries may refuse their blobs.
    public static let ociLayerNondistributable: MediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip: MediaType =
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd: MediaType =
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    /// The `{}` blob artifacts use as a placeholder config.
    public static let ociEmpty: MediaType = "application/vnd.oci.empty.v1+json"

    // Docker image manifest v2 schema 2 (distribution's manifest-v2-2.md).
    public static let dockerManifest: MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList: MediaType = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig: MediaType = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayer: MediaType = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip: MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerZstd: MediaType = "application/vnd.docker.image.rootfs.diff.tar.zstd"
    public static let dockerForeignLayer: MediaType = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    // Docker schema 1: deprecated, refused (Docker Hub stopped serving it in 2024).
    public static let dockerManifestV1: MediaType = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerManifestV1Signed: MediaType = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    /// The `Accept` list a registry client sends for manifests, most capable first.
    public static let manifestAccept: [MediaType] = [.ociIndex, .ociManifest, .dockerManifestList, .dockerManifest]
}

// MARK: - Classification

extension MediaType {
    /// An OCI index or a Docker manifest list.
    public var isIndex: Bool { self == .ociIndex || self == .dockerManifestList }

    /// An OCI image manifest or a Docker v2 schema 2 manifest.
    public var isImageManifest: Bool { self == .ociManifest || self == .dockerManifest }

    /// Either kind of manifest Ferry handles (index or image).
    public var isManifest: Bool { self.isIndex || self.isImageManifest }

    /// A Docker schema 1 manifest, signed or not.
    public var isSchema1: Bool { self == .dockerManifestV1 || self == .dockerManifestV1Signed }

    /// Any of Docker's `application/vnd.docker.*` types.
    public var isDocker: Bool { self.rawValue.hasPrefix("application/vnd.docker.") }

    /// An image config blob.
    public var isConfig: Bool { self == .ociConfig || self == .dockerConfig }

    /// A filesystem layer, OCI or Docker, in any compression.
    public var isLayer: Bool {
        self.rawValue.hasPrefix("application/vnd.oci.image.layer.")
            || self.rawValue.hasPrefix("application/vnd.docker.image.rootfs.")
    }

    /// A layer the registry may not hold (Windows base layers): it may have to be fetched from its `urls`.
    public var isNondistributable: Bool {
        self.rawValue.hasPrefix("application/vnd.oci.image.layer.nondistributable.")
            || self.rawValue.hasPrefix("application/vnd.docker.image.rootfs.foreign.")
    }

    /// A type that says nothing about a manifest's format, so the body has to be looked at instead.
    ///
    /// Some registries and static file servers answer `application/json`, `text/plain` or nothing.
    var isGeneric: Bool {
        switch self.rawValue {
        case "", "application/json", "text/plain", "application/octet-stream", "binary/octet-stream": true
        default: false
        }
    }
}

extension StringProtocol {
    /// Trims spaces and tabs (HTTP's optional whitespace) without Foundation's Unicode classes.
    public func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = text.lastIndex(where: { !isSpace($0) })!
        return text[first...last]
    }
}

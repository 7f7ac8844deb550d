/// What a synthetic image should look like; `ImageBuilder.write` turns it into a real OCI layout.
///
/// Deterministic: the same spec (seed included) always gives the same bytes and so the same digests.
public struct ImageSpec: Sendable, Hashable, Codable {
    /// Which family of media types the manifests, configs and layers carry.
    public enum MediaTypes: String, Sendable, Hashable, Codable {
        /// `application/vnd.oci.image.*`.
        case oci
        /// `application/vnd.docker.distribution.manifest.v2+json` and friends (what `docker push` sends).
        case docker
    }

    public var layers: [LayerSpec]
    public var mediaTypes: MediaTypes
    /// `os/arch[/variant]` of each child of an index (e.g. `linux/amd64`, `linux/arm64/v8`);
    /// empty means a single manifest for linux/amd64, with no index.
    public var platforms: [String]
    /// Adds, for each platform, an attestation manifest the way BuildKit does (platform `unknown/unknown`,
    /// annotation `vnd.docker.reference.type: attestation-manifest`). Needs `platforms`.
    public var attestation: Bool
    public var seed: UInt64

    public init(
        layers: [LayerSpec],
        mediaTypes: MediaTypes = .oci,
        platforms: [String] = [],
        attestation: Bool = false,
        seed: UInt64 = 1
    ) {
        self.layers = layers
        self.mediaTypes = mediaTypes
        self.platforms = platforms
        self.attestation = attestation
        self.seed = seed
    }

    /// The perf case: `totalBytes` of incompressible content over `layers` layers of (almost) equal size,
    /// stored with gzip level 0 so that generating gigabytes costs little more than writing them.
    public static func big(
        totalBytes: Int,
        layers: Int,
        mediaTypes: MediaTypes = .oci,
        seed: UInt64 = 1
    ) -> ImageSpec {
        precondition(layers > 0 && totalBytes >= layers, "need at least one byte per layer")
        let base = totalBytes / layers
        let sizes = (0..<layers).map { $0 == layers - 1 ? totalBytes - base * (layers - 1) : base }
        return ImageSpec(layers: sizes.map { LayerSpec(size: $0) }, mediaTypes: mediaTypes, seed: seed)
    }
}

/// One layer: a tar holding one regular file of `size` bytes, gzip-compressed.
public struct LayerSpec: Sendable, Hashable, Codable {
    /// Size of the file inside the tar (the tar adds 512-byte headers, padding and trailer).
    public var size: Int
    /// Log-like text (compresses several times) instead of random bytes (does not compress).
    public var compressible: Bool
    /// gzip level 0...9; `nil` picks 1 for compressible content and 0 (stored, cheapest) for random content.
    public var gzipLevel: Int?

    public init(size: Int, compressible: Bool = false, gzipLevel: Int? = nil) {
        precondition(size >= 0, "a layer's size cannot be negative")
        precondition(gzipLevel.map { (0...9).contains($0) } ?? true, "gzip level must be 0...9")
        self.size = size
        self.compressible = compressible
        self.gzipLevel = gzipLevel
    }

    var effectiveGzipLevel: Int { self.gzipLevel ?? (self.compressible ? 1 : 0) }
}

extension ImageSpec.MediaTypes {
    public var manifest: String {
        switch self {
        case .oci: "application/vnd.oci.image.manifest.v1+json"
        case .docker: "application/vnd.docker.distribution.manifest.v2+json"
        }
    }

    public var index: String {
        switch self {
        case .oci: "application/vnd.oci.image.index.v1+json"
        case .docker: "application/vnd.docker.distribution.manifest.list.v2+json"
        }
    }

    public var config: String {
        switch self {
        case .oci: "application/vnd.oci.image.config.v1+json"
        case .docker: "application/vnd.docker.container.image.v1+json"
        }
    }

    public var layer: String {
        switch self {
        case .oci: "application/vnd.oci.image.layer.v1.tar+gzip"
        case .docker: "application/vnd.docker.image.rootfs.diff.tar.gzip"
        }
    }
}

import Foundation

/// What `ImageBuilder.write` made: every digest, size and media type, and where the blobs are.
///
/// Digests are plain `sha256:<hex>` strings so test parts do not depend on the OCI module's types.
public struct BuiltImage: Sendable, Hashable, Codable {
    /// A blob in the layout's `blobs/sha256/`.
    public struct Blob: Sendable, Hashable, Codable {
        public let digest: String
        public let size: Int
        public let mediaType: String

        /// The hex part of the digest: the blob's file name.
        public var hex: String { String(self.digest.dropFirst("sha256:".count)) }
    }

    /// A layer: the compressed blob and what it unpacks to.
    public struct Layer: Sendable, Hashable, Codable {
        public let blob: Blob
        /// sha256 of the uncompressed tar, as listed in the config's `rootfs.diff_ids`.
        public let diffID: String
        /// Size of the uncompressed tar.
        public let uncompressedSize: Int
        /// The one regular file in the tar.
        public let fileName: String
    }

    /// One image manifest with its config and layers (one per platform for an index).
    public struct Manifest: Sendable, Hashable, Codable {
        /// `os/arch[/variant]`; `unknown/unknown` for an attestation.
        public let platform: String
        public let isAttestation: Bool
        public let manifest: Blob
        public let config: Blob
        public let layers: [Layer]
        /// For an attestation, the digest of the image manifest it describes (`vnd.docker.reference.digest`).
        public let attestationSubject: String?

        public init(
            platform: String, isAttestation: Bool, manifest: Blob, config: Blob, layers: [Layer],
            attestationSubject: String? = nil
        ) {
            self.platform = platform
            self.isAttestation = isAttestation
            self.manifest = manifest
            self.config = config
            self.layers = layers
            self.attestationSubject = attestationSubject
        }
    }

    /// The OCI layout directory holding the image.
    public let layout: URL
    /// The `org.opencontainers.image.ref.name` of the image in the layout's `index.json`.
    public let tag: String
    /// The top-level manifest: an index (manifest list) for multi-platform images, else the image manifest.
    public let top: Blob
    /// Image manifests, in the order the index lists them (attestations after the images they describe).
    public let manifests: [Manifest]
    /// Every blob of the image, each once: the top manifest, child manifests, configs and layers.
    public let blobs: [Blob]

    public var digest: String { self.top.digest }
    public var mediaType: String { self.top.mediaType }
    public var isIndex: Bool { self.top.digest != self.manifests.first?.manifest.digest }

    /// Sum of the sizes of all blobs: what a full copy moves.
    public var totalBytes: Int { self.blobs.reduce(0) { $0 + $1.size } }

    /// Manifests of real platforms (no attestations).
    public var platformManifests: [Manifest] { self.manifests.filter { !$0.isAttestation } }

    /// Where a blob of this image lives on disk.
    public func path(of digest: String) -> URL {
        self.layout.appendingPathComponent("blobs/sha256").appendingPathComponent(
            String(digest.dropFirst("sha256:".count)))
    }

    /// The layout as skopeo and ferry spell it: `oci:DIR:TAG`.
    public var ociReference: String { "oci:\(self.layout.path):\(self.tag)" }
}

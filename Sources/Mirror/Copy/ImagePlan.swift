import OCI

/// Everything one image consists of, resolved before any blob moves: the resolved digests are fixed here,
/// so a tag moved upstream cannot change a transfer half way.
public struct ImagePlan: Sendable {
    /// One manifest exactly as served.
    public struct StoredManifest: Sendable {
        public var raw: RawManifest
        public var digest: Digest
        public var descriptor: Descriptor { self.raw.descriptor(digest: self.digest) }
    }

    public var source: Reference
    /// The manifest a tag points at after the copy: the index, or the chosen child with `--platform`.
    public var top: StoredManifest
    /// Children before parents, the top one last: the order they must be written in.
    public var manifests: [StoredManifest]
    /// Every config and layer, each once.
    public var blobs: [Descriptor]

    public var totalBlobBytes: Int64 { self.blobs.reduce(0) { $0 + $1.size } }

    /// Platforms of the top manifest's children when it is an index.
    public var platforms: [Platform] {
        guard case .index(let index)? = try? self.top.raw.parse() else { return [] }
        return index.platforms
    }
}

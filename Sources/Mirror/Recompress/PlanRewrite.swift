import Codec
import OCI

/// An image plan with some layers replaced by recoded ones: each image manifest that changed is re-encoded, and
/// every index above it then points at the new digest. Manifests that did not change keep their bytes (and digests).
enum PlanRewrite {
    /// - Parameters:
    ///   - layers: old layer digest → the recoded layer's digest and size.
    ///   - compression: gives recoded layers their media type, and converts Docker manifests, lists and configs to
    ///     their OCI types when it needs to (zstd).
    static func rewrite(_ plan: ImagePlan, layers: [Digest: Descriptor], compression: LayerCompression) throws -> ImagePlan {
        let toOCI = compression.needsOCI
        var renamed: [Digest: Descriptor] = [:]
        var manifests: [ImagePlan.StoredManifest] = []
        for stored in plan.manifests {
            let new = try self.rewrite(stored, layers: layers, renamed: renamed, compression: compression)
            if new.digest != stored.digest { renamed[stored.digest] = new.descriptor }
            manifests.append(new)
        }
        let top = try manifests.first { $0.digest == (renamed[plan.top.digest]?.digest ?? plan.top.digest) }
            ?? self.rewrite(plan.top, layers: layers, renamed: renamed, compression: compression)
        let blobs = plan.blobs.map { blob -> Descriptor in
            if let new = layers[blob.digest] { return Descriptor(mediaType: compression.layerType(oci: true), digest: new.digest, size: new.size) }
            var blob = blob
            if toOCI { blob.mediaType = LayerCompression.ociType(blob.mediaType) }
            return blob
        }
        return ImagePlan(source: plan.source, top: top, manifests: manifests, blobs: blobs)
    }

    private static func rewrite(
        _ stored: ImagePlan.StoredManifest, layers: [Digest: Descriptor], renamed: [Digest: Descriptor], compression: LayerCompression
    ) throws -> ImagePlan.StoredManifest {
        let converts = compression.needsOCI && stored.raw.mediaType.isDocker
        let oci = converts || !stored.raw.mediaType.isDocker
        let content: ManifestContent
        switch try stored.raw.parse() {
        case .image(var manifest):
            var changed = converts
            manifest.layers = manifest.layers.map { layer in
                guard let new = layers[layer.digest] else { return layer }
                changed = true
                var out = Descriptor(mediaType: compression.layerType(oci: oci), digest: new.digest, size: new.size)
                out.urls = layer.urls
                out.annotations = Self.keptAnnotations(layer.annotations)
                return out
            }
            guard changed else { return stored }
            if converts {
                manifest.mediaType = .ociManifest
                manifest.config.mediaType = LayerCompression.ociType(manifest.config.mediaType)
                manifest.layers = manifest.layers.map { layer in
                    var layer = layer
                    layer.mediaType = LayerCompression.ociType(layer.mediaType)
                    return layer
                }
            }
            content = .image(manifest)
        case .index(var index):
            var changed = converts
            index.manifests = index.manifests.map { child in
                var child = child
                if let new = renamed[child.digest] {
                    child.digest = new.digest
                    child.size = new.size
                    child.mediaType = new.mediaType
                    changed = true
                }
                // BuildKit's attestations name the image they describe by digest: follow it to the new one.
                if let text = child.annotations?[AnnotationKey.dockerReferenceDigest], let old = try? Digest(text), let new = renamed[old] {
                    child.annotations?[AnnotationKey.dockerReferenceDigest] = new.digest.description
                    changed = true
                }
                return child
            }
            guard changed else { return stored }
            if converts { index.mediaType = .ociIndex }
            content = .index(index)
        }
        let raw = try RawManifest(encoding: content)
        return ImagePlan.StoredManifest(raw: raw, digest: try Digest(sha256Hex: SHA256.hexDigest(raw.bytes)))
    }

    /// Annotations that describe the compressed bytes themselves (eStargz and zstd:chunked tables of contents) are
    /// wrong for the recoded layer; the rest (titles, …) carry over.
    static func keptAnnotations(_ annotations: [String: String]?) -> [String: String]? {
        guard let annotations else { return nil }
        let kept = annotations.filter { key, _ in
            !key.hasPrefix("containerd.io/snapshot/") && !key.hasPrefix("io.containers.zstd-chunked.")
        }
        return kept.isEmpty ? nil : kept
    }
}

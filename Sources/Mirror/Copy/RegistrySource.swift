import OCI
import Registry

/// Reads images from a registry: resolves a reference to an `ImagePlan`.
public struct RegistrySource: Sendable {
    public let client: RegistryClient

    public init(client: RegistryClient) {
        self.client = client
    }

    /// Fetches the manifest(s) of `reference` and lists the blobs to move.
    public func plan(_ reference: Reference, platform: PlatformChoice) async throws -> ImagePlan {
        let (raw, digest) = try await self.client.manifest(reference)
        var top = ImagePlan.StoredManifest(raw: raw, digest: digest)
        var manifests: [ImagePlan.StoredManifest] = []
        var blobs: [Descriptor] = []
        var seen = Set<Digest>()

        switch (try Self.parse(raw, reference), platform) {
        case (.index(let index), .one(let wanted)):
            let child = try index.child(for: wanted, of: reference)
            top = try await self.collect(reference, child.digest, depth: 1, manifests: &manifests, blobs: &blobs, seen: &seen)
        case (.index, .all), (.image, _):
            _ = try await self.walk(reference, top, depth: 0, manifests: &manifests, blobs: &blobs, seen: &seen)
        }
        return ImagePlan(source: reference, top: top, manifests: manifests, blobs: blobs)
    }

    private func collect(
        _ reference: Reference, _ digest: Digest, depth: Int,
        manifests: inout [ImagePlan.StoredManifest], blobs: inout [Descriptor], seen: inout Set<Digest>
    ) async throws -> ImagePlan.StoredManifest {
        let (raw, d) = try await self.client.manifest(reference.with(digest: digest))
        let stored = ImagePlan.StoredManifest(raw: raw, digest: d)
        _ = try await self.walk(reference, stored, depth: depth, manifests: &manifests, blobs: &blobs, seen: &seen)
        return stored
    }

    /// Appends `stored`'s children (recursively) and blobs, then `stored` itself.
    private func walk(
        _ reference: Reference, _ stored: ImagePlan.StoredManifest, depth: Int,
        manifests: inout [ImagePlan.StoredManifest], blobs: inout [Descriptor], seen: inout Set<Digest>
    ) async throws -> Void {
        guard depth < 4 else { throw MirrorError(.failed, "\(reference): indexes nested too deeply") }
        switch try Self.parse(stored.raw, reference) {
        case .index(let index):
            for child in index.manifests where !seen.contains(child.digest) {
                seen.insert(child.digest)
                _ = try await self.collect(reference, child.digest, depth: depth + 1, manifests: &manifests, blobs: &blobs, seen: &seen)
            }
        case .image(let manifest):
            for blob in manifest.blobs where !seen.contains(blob.digest) {
                seen.insert(blob.digest)
                blobs.append(blob)
            }
        }
        manifests.append(stored)
    }

    static func parse(_ raw: RawManifest, _ reference: Reference) throws -> ManifestContent {
        do {
            return try raw.parse()
        } catch {
            throw MirrorError(.failed, "\(reference): \(error)")
        }
    }
}

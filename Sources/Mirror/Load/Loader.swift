import OCI
import Transfer

/// `ferry load`: every image of a bundle (or OCI layout, or docker archive: `docker save`, skopeo's docker-archive) into a registry under a namespace, named as `sync` and
/// `rewrite` name them, pushed from the bundle in place with the source's digests.
public struct Loader: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    /// Opens the bundle, names every image at the target (refusing collisions before anything is pushed),
    /// and pushes them all.
    public func load(_ bundle: String, naming: TargetNaming, platform: PlatformChoice = .all, options: PushOptions) async throws -> PushResult {
        let source = try await ArchiveSource.opening(bundle)
        if let untagged = source.dockerImages?.filter({ $0.names.isEmpty }), !untagged.isEmpty {
            let which = untagged.map { "@\($0.index) (\($0.manifest.digest.short))" }.joined(separator: ", ")
            throw MirrorError(.failed, "\(bundle): image\(untagged.count == 1 ? "" : "s") \(which) of manifest.json \(untagged.count == 1 ? "has" : "have") no RepoTags, so ferry load cannot name \(untagged.count == 1 ? "it" : "them"); push \(untagged.count == 1 ? "it" : "each") with ferry copy docker-archive:\(bundle):@N docker://REGISTRY/REPO:TAG")
        }
        let images = try source.images()
        let targets = try naming.targets(for: images.map(\.name))
        let items = try images.map { image in
            PushItem(plan: try source.plan(image.descriptor, source: image.name, platform: platform), target: targets[image.name]!)
        }
        return try await Pusher(engine: self.engine).push(items, from: source.pushSource, options: options)
    }
}

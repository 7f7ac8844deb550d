import OCI
import Transfer

/// `ferry load`: every image of a bundle (or OCI layout) into a registry under a namespace, named as `sync` and
/// `rewrite` name them, pushed from the bundle in place with the source's digests.
public struct Loader: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    /// Opens the bundle, names every image at the target (refusing collisions before anything is pushed),
    /// and pushes them all.
    public func load(_ bundle: String, naming: TargetNaming, platform: PlatformChoice = .all, options: PushOptions) async throws -> PushResult {
        let source = try ArchiveSource(opening: bundle)
        let images = try source.images()
        let targets = try naming.targets(for: images.map(\.name))
        let items = try images.map { image in
            PushItem(plan: try source.plan(image.descriptor, source: image.name, platform: platform), target: targets[image.name]!)
        }
        return try await Pusher(engine: self.engine).push(items, from: source, options: options)
    }
}

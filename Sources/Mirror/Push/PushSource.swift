import OCI

/// Where the blobs of images to push are: anything that can hand out a blob as a region of a file, which the
/// upload then streams from (a bundle member, a layout's blob file, a blob fetched from another registry just
/// before it is sent). Manifests come with each `ImagePlan`.
public protocol PushSource: Sendable {
    /// For messages: the bundle or directory.
    var description: String { get }
    /// The blob's bytes, or nil when the source does not hold it (a delta bundle leaves out what the target has).
    func region(of digest: Digest) -> BlobRegion?
    /// True when blobs are fetched only when needed (`lend`), so nothing is looked for up front.
    var fetchesOnDemand: Bool { get }
    /// Lends the bytes of `blob` of `image` for the length of `body` (one upload).
    func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T
}

extension PushSource {
    public var fetchesOnDemand: Bool { false }

    public func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T {
        guard let region = self.region(of: blob.digest) else {
            throw MirrorError(.failed, "\(image): blob \(blob.digest) is not in \(self.description)")
        }
        return try await body(region)
    }
}

/// One image to push: what it consists of, and the name it gets at the target.
public struct PushItem: Sendable {
    public var plan: ImagePlan
    /// Registry and repository to push to, with the tag to set last (or only a digest).
    public var target: Reference

    public init(plan: ImagePlan, target: Reference) {
        self.plan = plan
        self.target = target
    }
}

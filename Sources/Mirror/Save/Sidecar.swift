import Foundation
import OCI
import Stores

/// `BUNDLE.ferry.json`: what a bundle holds (images, manifest digests, blobs), small enough to carry alone, so a
/// later delta can be planned without the old multi-GB bundle at hand.
public struct Sidecar: Sendable, Codable {
    public struct Image: Sendable, Codable {
        public var reference: String
        public var digest: String
        public var mediaType: String
    }

    public struct Blob: Sendable, Codable {
        public var digest: String
        public var size: Int64
    }

    public var version = 1
    public var images: [Image]
    public var blobs: [Blob]
    /// Set on a delta: the fingerprint of the base bundle's blobs (see `DeltaBase`).
    public var deltaBase: String?

    init(images: [ImagePlan], blobs: [Descriptor]) {
        self.images = images.map { Image(reference: $0.source.description, digest: $0.top.digest.description, mediaType: $0.top.raw.mediaType.rawValue) }
        var all = blobs.map { Blob(digest: $0.digest.description, size: $0.size) }
        for image in images {
            for m in image.manifests + [image.top] where !all.contains(where: { $0.digest == m.digest.description }) {
                all.append(Blob(digest: m.digest.description, size: m.raw.size))
            }
        }
        self.blobs = all
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(Array(try encoder.encode(self)), to: path)
    }
}

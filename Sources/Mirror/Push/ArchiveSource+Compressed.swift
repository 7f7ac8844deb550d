import Foundation
import OCI

/// Compressed bundles hold no file region to upload from: their blobs are lent as spool files decompressed from the
/// bundle one at a time (see `CompressedTarArchive.lend`), so the pusher asks for them only when it sends them.
extension ArchiveSource {
    public var fetchesOnDemand: Bool { self.archive is CompressedTarArchive || self.archive is StreamedArchive }

    public func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T {
        if let compressed = self.archive as? CompressedTarArchive {
            return try await compressed.lend(blob, of: image, spool: RegistryBlobSource.defaultSpool(), body)
        }
        if self.archive is StreamedArchive {
            // Pushes go through `pushSource`, which reads all blobs in one pass; alone, a blob costs a pass.
            return try await self.pushSource.lend(blob, of: image, body)
        }
        guard let region = self.region(of: blob.digest) else {
            throw MirrorError(.failed, "\(image): blob \(blob.digest) is not in \(self.description)")
        }
        return try await body(region)
    }
}

import Foundation
import Glibc
import OCI
import Registry
import Stores
import Transfer

/// Blobs of images in other registries, for registry-to-registry pushes (`sync`, `copy docker:// docker://`).
///
/// Each blob is fetched (segmented, verified) into a spool file just before it is sent and removed once it is in:
/// disk use is the blobs in flight, never the image set. A blob whose upload failed stays spooled, so the same
/// command run again sends it without fetching it again. (True streaming, source body straight into the upload,
/// needs a streaming request body in the engine; the spool is the step before.)
struct RegistryBlobSource: PushSource {
    let clients: RegistryClients
    /// Under `$XDG_STATE_HOME/ferry/spool/`: never beside the source, and kept across runs for resume.
    let spool: String
    let download: DownloadOptions
    /// Synced by default, so an upload resumed after a power loss starts from sound bytes. A reader that uses each
    /// blob once within the run (recompression) takes `.transient`: a spool left by an earlier run is re-hashed
    /// before it is lent either way.
    var durability: BlobFetch.Durability = .synced

    var description: String { "the source registry" }
    var fetchesOnDemand: Bool { true }

    func region(of digest: Digest) -> BlobRegion? { nil }

    func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T {
        let path = "\(self.spool)/\(blob.digest.hex)"
        if !fileHolds(path, digest: blob.digest, size: blob.size) {
            try FileManager.default.createDirectory(atPath: self.spool, withIntermediateDirectories: true)
            let client = try await self.clients.client(for: image.registry)
            let partial = path + ".partial"
            _ = try await BlobFetch(client: client, repository: image.repository, digest: blob.digest, size: blob.size)
                .run(into: partial, download: self.download, progress: nil, durability: self.durability)
            guard rename(partial, path) == 0 else {
                throw MirrorError(.failed, "cannot move \(partial) to \(path): \(String(cString: strerror(errno)))")
            }
        }
        // Verified either way: the download hashed every byte, and a file left by an earlier run was re-hashed above.
        let result = try await body(BlobRegion(path: path, offset: 0, size: blob.size, verified: true))
        unlink(path)
        return result
    }

    /// `$XDG_STATE_HOME/ferry/spool`, beside the upload journal.
    static func defaultSpool() -> String {
        (UploadJournal.defaultDirectory() as NSString).deletingLastPathComponent + "/spool"
    }
}

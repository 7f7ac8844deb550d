import OCI
import Registry
import Stores
import Transfer
import Glibc

/// Downloads blobs from one repository into an OCI layout, several at once, each verified before it lands.
struct LayoutBlobFetcher: Sendable {
    struct Stats: Sendable {
        var fetched = 0
        var skipped = 0
        var bytes: Int64 = 0
    }

    let client: RegistryClient
    let repository: String
    let layout: OCILayout
    let progress: ProgressHandler?
    let download: DownloadOptions

    /// Fetches every blob not already present, at most `jobs` at a time; the first failure cancels the rest.
    /// - Parameter alsoLanding: blobs the caller moves into `blobs/` unsynced itself, to list with these.
    func fetchAll(_ blobs: [Descriptor], jobs: Int, alsoLanding: [Digest] = []) async throws -> Stats {
        var stats = Stats()
        // A crash after an earlier run's unsynced renames: trust nothing it listed until re-hashed.
        self.layout.recheckUnsynced()
        var pending = blobs.filter { blob in
            if self.layout.hasBlob(blob) {
                stats.skipped += 1
                self.progress?(ProgressEvent(id: blob.digest.description, kind: .skipped(total: blob.size)))
                return false
            }
            return true
        }[...]
        // Largest first: the long transfers start early and small ones fill the gaps.
        pending = pending.sorted { $0.size > $1.size }[...]
        // Blobs land verified but unsynced; a crash before the kernel wrote them back is caught next time
        // (see OCILayout.beginUnsynced).
        let landing = pending.map(\.digest) + alsoLanding
        try self.layout.beginUnsynced(landing)
        try await forEachConcurrently(pending, jobs: jobs, self.fetch) { bytes in
            stats.fetched += 1
            stats.bytes += bytes
        }
        return stats
    }

    /// One blob: segmented into a partial file beside its journal, verified, then renamed into `blobs/`.
    func fetch(_ blob: Descriptor) async throws -> Int64 {
        let temp = self.layout.temporaryPath(blob.digest)
        // Unsynced: listed by `fetchAll` for a re-check after a crash.
        let fetched = try await BlobFetch(client: self.client, repository: self.repository, digest: blob.digest, size: blob.size)
            .run(into: temp, download: self.download, progress: self.progress, durability: .writtenBack)
        try self.layout.commit(temporary: temp, as: blob.digest)
        return fetched
    }
}

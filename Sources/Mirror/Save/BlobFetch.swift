import OCI
import Registry
import Transfer

/// One blob downloaded from a registry, segmented, journaled and checked against its digest: into a file of its own
/// (a staged blob) or into an extent of a larger file (a member of a planned tar). `save`, compressed `save` and
/// `copy … oci-archive:|docker-archive:` all fetch blobs this way, so they retry, resume and fail alike.
struct BlobFetch {
    let client: RegistryClient
    let repository: String
    let digest: Digest
    let size: Int64

    /// Downloads into `path`: the whole file, or with `extent` the blob's bytes at `extent.baseOffset` in it.
    /// - Returns: the bytes fetched over the network (less than `size` when a journal resumed it).
    func run(into path: String, extent: SegmentedDownload.Extent? = nil, options: CopyOptions) async throws -> Int64 {
        var download = SegmentedDownload(
            id: self.digest.description, expectedSHA256: self.digest.hex, size: self.size, path: path,
            options: options.download, progress: options.progress, classify: RegistryError.retryAdvice)
        download.extent = extent
        let locator = BlobLocator(client: self.client, repository: self.repository, digest: self.digest)
        do {
            return try await download.run { range in try await locator.fetch(range) }.fetchedBytes
        } catch let e as TransferError {
            // Name where the blob came from: the transfer layer knows only URLs and digests.
            throw MirrorError(.failed, "\(self.client.registry)/\(self.repository): \(e.message)")
        }
    }
}

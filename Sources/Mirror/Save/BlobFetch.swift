import OCI
import Registry
import Stores
import Transfer

/// One blob downloaded from a registry, segmented, journaled and checked against its digest: into a file of its own
/// (a staged, spooled or layout blob) or into an extent of a larger file (a member of a planned tar). `save`,
/// compressed `save`, `copy` into archives and layouts and registry-to-registry pushes all fetch blobs this way, so
/// they retry, resume and fail alike.
struct BlobFetch {
    let client: RegistryClient
    let repository: String
    let digest: Digest
    let size: Int64

    /// How far a file of its own is made durable before `run` returns (an extent's file is synced by its owner).
    enum Durability {
        /// Synced: trusted across a power loss as it is.
        case synced
        /// Not synced but written back as it downloads: a kept file the caller re-checks after a crash (see
        /// `OCILayout.beginUnsynced`), without a sync per blob.
        case writtenBack
        /// Neither: a file read once and deleted, or hashed again before it is trusted after a crash.
        case transient
    }

    /// Downloads into `path`: the whole file, or with `extent` the blob's bytes at `extent.baseOffset` in it.
    /// - Returns: the bytes fetched over the network (less than `size` when a journal resumed it).
    func run(into path: String, extent: SegmentedDownload.Extent? = nil, options: CopyOptions, durability: Durability = .synced) async throws -> Int64 {
        try await self.run(into: path, extent: extent, download: options.download, progress: options.progress, durability: durability)
    }

    func run(
        into path: String, extent: SegmentedDownload.Extent? = nil, download options: DownloadOptions, progress: ProgressHandler?,
        durability: Durability = .synced
    ) async throws -> Int64 {
        var download = SegmentedDownload(
            id: self.digest.description, expectedSHA256: self.digest.hex, size: self.size, path: path,
            options: options, progress: progress, classify: RegistryError.retryAdvice)
        download.extent = extent
        download.syncsOnFinish = durability == .synced
        download.startsWriteback = durability != .transient
        let locator = BlobLocator(client: self.client, repository: self.repository, digest: self.digest)
        do {
            return try await download.run { range in try await locator.fetch(range) }.fetchedBytes
        } catch let e as TransferError {
            // Name where the blob came from: the transfer layer knows only URLs and digests.
            throw MirrorError(.failed, "\(self.client.registry)/\(self.repository): \(e.message)")
        }
    }

    /// A member of a planned tar (`save`, `copy … oci-archive:|docker-archive:`): into its extent of the bundle,
    /// journaled beside it.
    static func member(
        _ member: BundlePlan.Member, client: RegistryClient, repository: String, state: BundleState, plan: BundlePlan, options: CopyOptions
    ) async throws -> Int64 {
        let digest = member.digest!
        let extent = SegmentedDownload.Extent(baseOffset: member.dataOffset, fileSize: plan.archiveSize, journalPath: state.journalPath(digest.hex))
        return try await BlobFetch(client: client, repository: repository, digest: digest, size: member.header.size)
            .run(into: state.partial, extent: extent, options: options)
    }
}

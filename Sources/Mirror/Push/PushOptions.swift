import OCI
import Registry
import Transfer

/// How a push runs: blobs in flight, registry access, chunking and journaling of uploads, progress.
public struct PushOptions: Sendable {
    /// Blobs in flight at once, across all images (`--jobs`).
    public var jobs: Int
    public var registry: RegistryOptions
    /// `--upload-chunk-size`, attempts per blob, and the upload journal.
    public var upload: UploadOptions
    public var progress: ProgressHandler?

    public init(jobs: Int = 8, registry: RegistryOptions = RegistryOptions(), upload: UploadOptions = UploadOptions(), progress: ProgressHandler? = nil) {
        self.jobs = max(1, jobs)
        self.registry = registry
        self.upload = upload
        self.progress = progress
    }
}

/// What a push did, for the summary line and `--map`.
public struct PushResult: Sendable {
    /// One image as it arrived: its manifest digest at the target equals the source's.
    public struct Image: Sendable, Hashable {
        public var source: Reference
        public var target: Reference
        public var digest: Digest
        public var mediaType: MediaType

        init(_ item: PushItem) {
            self.source = item.plan.source
            self.target = item.target
            self.digest = item.plan.top.digest
            self.mediaType = item.plan.top.raw.mediaType
        }
    }

    public var images: [Image] = []
    public var blobsUploaded = 0
    public var blobsSkipped = 0
    public var blobsMounted = 0
    /// Bytes sent in this run (a resumed blob counts only what was left).
    public var bytesUploaded: Int64 = 0
    /// Blobs that went on from an upload a previous run had begun.
    public var blobsResumed = 0
}

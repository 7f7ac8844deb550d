import Registry
import Transfer

/// Options shared by the jobs that move images.
public struct CopyOptions: Sendable {
    public var platform: PlatformChoice
    /// Blobs in flight at once (`--jobs`).
    public var jobs: Int
    public var registry: RegistryOptions
    /// Per-blob segmenting: `--connections`, `--chunk-size`, retries, stall timeout.
    public var download: DownloadOptions
    public var progress: ProgressHandler?
    /// `--dest-compress`: layers rewritten into this compression on the way; nil keeps them as they are.
    public var recompress: LayerCompression?

    /// Without a budget of its own, `download` gets one for this job: as many connections as blobs in flight, or as
    /// one blob may use (a lone big blob still gets them all).
    public init(platform: PlatformChoice = .all, jobs: Int = 8, registry: RegistryOptions = RegistryOptions(), download: DownloadOptions = DownloadOptions(), progress: ProgressHandler? = nil) {
        self.download = download.budgeted(jobs: jobs)
        self.platform = platform
        self.jobs = max(1, jobs)
        self.registry = registry
        self.progress = progress
    }
}

/// What a copy did, for the summary line and `--map`.
public struct CopyResult: Sendable {
    public var source: String
    public var destination: String
    public var digest: String
    public var mediaType: String
    public var blobsFetched: Int
    public var blobsSkipped: Int
    public var bytesFetched: Int64
    /// With `--dest-compress`: what was rewritten.
    public var recoded: Recoded? = nil

    public struct Recoded: Sendable {
        public var compression: LayerCompression
        public var layers: Int
        public var bytesBefore: Int64
        public var bytesAfter: Int64
    }
}

extension CopyOptions {
    /// How a copy pushes: its jobs, registry settings and progress, with uploads resumable through the journal.
    var pushOptions: PushOptions {
        let upload = UploadOptions(
            attempts: self.registry.retry.attempts, journal: UploadJournal(directory: UploadJournal.defaultDirectory()),
            stallTimeout: self.download.stallTimeout)
        return PushOptions(jobs: self.jobs, registry: self.registry, upload: upload, progress: self.progress)
    }
}

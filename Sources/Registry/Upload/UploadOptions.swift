import Synchronization

/// How blobs are uploaded: `--upload-chunk-size`, attempts, and where resumable uploads are journaled.
public struct UploadOptions: Sendable {
    /// Blobs up to this size go in one `PUT`; larger ones in `PATCH` chunks of this size (`--upload-chunk-size`).
    /// 64 MiB: few enough requests for big layers, small enough for most proxies' body limits.
    public var chunkSize: Int64 {
        get { self.chunks.current }
        set { self.chunks = ChunkSizer(newValue) }
    }
    /// Attempts per blob before giving up; a resumed PATCH and a restarted blob each take one.
    public var attempts: Int
    /// Where finished PATCHes are recorded, so a killed upload goes on from the registry's offset.
    public var journal: UploadJournal?
    /// Seconds without a body byte going out before a request is dropped and its session asked where it stands.
    public var stallTimeout: Double
    /// How long the answer may take once the whole body is out: a commit makes the registry finish the blob.
    var answerTimeout: Double { max(300, self.stallTimeout * 10) }

    /// Shared by every upload of a job: one 413 lowers the chunk size for all of them.
    private(set) var chunks: ChunkSizer

    public init(chunkSize: Int64 = 64 << 20, attempts: Int = 6, journal: UploadJournal? = nil, stallTimeout: Double = 30) {
        self.chunks = ChunkSizer(chunkSize)
        self.attempts = max(1, attempts)
        self.journal = journal
        self.stallTimeout = stallTimeout
    }

    /// Below this a 413 is not worked around: a proxy that refuses 1 MiB bodies is misconfigured.
    static let smallestChunk: Int64 = 1 << 20
}

/// The chunk size of a job, lowered when a proxy or registry refuses a body as too large (413).
final class ChunkSizer: Sendable {
    private let size: Mutex<Int64>

    init(_ size: Int64) {
        self.size = Mutex(max(1, size))
    }

    var current: Int64 { self.size.withLock { $0 } }

    /// Halves the size after a 413 on a body of `refused` bytes; nil when it cannot go lower.
    func lower(after refused: Int64) -> Int64? {
        self.size.withLock { size in
            // A body sent before another upload lowered the size: already dealt with.
            if refused > size { return size }
            let next = max(UploadOptions.smallestChunk, refused / 2)
            guard next < refused else { return nil }
            size = min(size, next)
            return size
        }
    }
}

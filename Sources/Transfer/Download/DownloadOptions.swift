/// How one blob is fetched: `--connections`, `--chunk-size`, `--retries`, and when a silent connection counts as stalled.
public struct DownloadOptions: Sendable {
    /// Parallel Range requests for one blob, each on its own TCP connection.
    public var connections: Int
    public var chunkSize: Int64
    /// Attempts per segment without progress before the blob fails.
    public var attempts: Int
    /// Seconds without a byte before a connection is dropped and its segment retried.
    public var stallTimeout: Double
    /// Data and journal are made durable after this many bytes (batched, not per chunk).
    public var syncEvery: Int64
    /// An extra connection joins a blob only by splitting a segment that still needs more than this many seconds at
    /// its measured rate (aria2 splits by size; a rate tells a capped or distant link from a fast one). 0: every
    /// connection starts at once, on an equal share.
    public var splitThreshold: Double = 1
    /// Shared by every blob of one operation: extra connections split a blob only while fewer than its limit are in
    /// flight in all (see `ConnectionBudget`). Nil: no limit across blobs.
    public var budget: ConnectionBudget?

    /// These options with a budget for an operation that keeps `jobs` blobs in flight, unless they have one.
    public func budgeted(jobs: Int) -> DownloadOptions {
        guard self.budget == nil else { return self }
        var options = self
        options.budget = ConnectionBudget(limit: max(jobs, self.connections))
        return options
    }

    public init(connections: Int = 4, chunkSize: Int64 = 16 << 20, attempts: Int = 6, stallTimeout: Double = 30, syncEvery: Int64 = 256 << 20) {
        self.connections = max(1, connections)
        self.chunkSize = max(64 << 10, chunkSize)
        self.attempts = max(1, attempts)
        self.stallTimeout = stallTimeout
        self.syncEvery = syncEvery
    }
}

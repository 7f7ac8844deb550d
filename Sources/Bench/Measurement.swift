/// One timed run of one tool on one phase's data: what `wait4` said about its child(ren) and how many bytes moved.
public struct RunSample: Codable, Sendable, Hashable {
    /// Wall seconds, start to reap (summed over the children of one run, e.g. one `copy` per image).
    public var wallSeconds: Double
    public var cpuUserSeconds: Double
    public var cpuSystemSeconds: Double
    /// The largest peak RSS of the run's children, bytes.
    public var peakRSSBytes: Int64
    /// Retries Ferry reported (`--progress json` summary); 0 for peers, which do not say.
    public var retries: Int
    /// Decimal megabytes (10^6) per second: the phase's bytes over the wall time.
    public var mbPerSecond: Double

    public init(wallSeconds: Double, cpuUserSeconds: Double, cpuSystemSeconds: Double, peakRSSBytes: Int64, retries: Int, bytes: Int64) {
        self.wallSeconds = wallSeconds
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.peakRSSBytes = peakRSSBytes
        self.retries = retries
        self.mbPerSecond = wallSeconds > 0 ? Double(bytes) / wallSeconds / 1e6 : 0
    }

    public var cpuSeconds: Double { self.cpuUserSeconds + self.cpuSystemSeconds }

    enum CodingKeys: String, CodingKey {
        case wallSeconds = "wall_s", cpuUserSeconds = "cpu_user_s", cpuSystemSeconds = "cpu_sys_s"
        case peakRSSBytes = "peak_rss_bytes", retries, mbPerSecond = "mb_per_s"
    }
}

/// Median, minimum and maximum of MB/s over the runs: the median is what is compared, min–max is the spread.
public struct Spread: Codable, Sendable, Hashable {
    public var median: Double
    public var min: Double
    public var max: Double

    public init(median: Double, min: Double, max: Double) {
        self.median = median
        self.min = min
        self.max = max
    }

    public init(_ values: [Double]) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else {
            self.init(median: 0, min: 0, max: 0)
            return
        }
        let mid = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        self.init(median: median, min: sorted.first!, max: sorted.last!)
    }
}

extension Array where Element == RunSample {
    var mbPerSecond: Spread { Spread(self.map(\.mbPerSecond)) }
    var medianCPUSeconds: Double { Spread(self.map(\.cpuSeconds)).median }
    var maxPeakRSS: Int64 { self.map(\.peakRSSBytes).max() ?? 0 }
    var totalRetries: Int { self.reduce(0) { $0 + $1.retries } }
}

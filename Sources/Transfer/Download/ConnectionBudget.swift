import Synchronization

/// The connections in flight across every blob of one operation (a save, a copy, a sync), so that a blob's extra
/// connections join only while fewer than `limit` run in all.
///
/// With `--jobs` blobs flowing the machine, not the link, sets the pace: a split then gains nothing, and its bytes
/// arrive ahead of the hash, which reads them back from the file later (from the disk, for a bundle written with
/// `O_DIRECT`: half of a 2 GiB save was read back so). The last blobs of a save, or one big blob, still split.
public final class ConnectionBudget: Sendable {
    public let limit: Int
    private let inUse = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Connections in flight now.
    public var count: Int { self.inUse.load(ordering: .relaxed) }

    /// A blob's first connection: always granted (a blob must make progress), and counted.
    func take() {
        self.inUse.add(1, ordering: .relaxed)
    }

    /// An extra connection: granted only under the limit.
    func takeIfFree() -> Bool {
        var current = self.inUse.load(ordering: .relaxed)
        while current < self.limit {
            let (exchanged, original) = self.inUse.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func giveBack() {
        self.inUse.subtract(1, ordering: .relaxed)
    }
}

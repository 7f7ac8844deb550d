/// How a blob is cut into fixed-size chunks: the unit of bookkeeping (one journal bit), not of memory.
public struct ChunkPlan: Sendable, Hashable {
    public let size: Int64
    public let chunkSize: Int64

    public init(size: Int64, chunkSize: Int64) {
        precondition(size >= 0 && chunkSize > 0, "a plan needs a non-negative size and a positive chunk size")
        self.size = size
        self.chunkSize = chunkSize
    }

    public var count: Int { Int((self.size + self.chunkSize - 1) / self.chunkSize) }

    /// The bytes of chunk `index`; the last one may be short.
    public func range(of index: Int) -> Range<Int64> {
        let start = Int64(index) * self.chunkSize
        return start..<min(start + self.chunkSize, self.size)
    }

    public func chunk(containing offset: Int64) -> Int {
        Int(offset / self.chunkSize)
    }
}

/// Hands out segments (runs of chunks, one Range request each) to connections, and lets an idle connection take
/// the tail of the segment with most left (work stealing), as aria2's `SegmentMan` does. A plain value: its owner
/// keeps it under a lock and acts on what it returns outside the lock.
public struct SegmentScheduler: Sendable {
    public struct Segment: Sendable, Hashable {
        public let id: Int
        /// The next byte to write.
        public var position: Int64
        /// One past the last byte; stealing may lower it while the segment runs.
        public var end: Int64
        /// One past the last byte of the Range request in flight: stealing never cuts below it, so no byte already
        /// on the wire is thrown away.
        public var requestEnd: Int64 = 0
        public var isDone: Bool { self.position >= self.end }
    }

    public let plan: ChunkPlan
    private(set) var done: [Bool]
    private(set) var active: [Int: Segment] = [:]
    private var nextID = 0
    /// Runs are `pending / connections` chunks long, fixed at the start, so the first connections do not take
    /// more than their share; what is left over goes to whoever finishes first.
    private let share: Int

    public init(plan: ChunkPlan, done: [Bool], connections: Int) {
        precondition(done.count == plan.count)
        self.plan = plan
        self.done = done
        self.share = max(1, done.count { !$0 } / max(1, connections))
    }

    public var isComplete: Bool { !self.done.contains(false) }
    public var doneCount: Int { self.done.count { $0 } }

    /// The next piece of work: a run of chunks nobody is fetching, or else the tail of the segment with most left
    /// among those `splittable` accepts.
    public mutating func claim(splittable: (Segment) -> Bool = { _ in true }) -> Segment? {
        if let run = self.firstUnownedRun() {
            let last = min(run.upperBound, run.lowerBound + self.share)
            return self.open(from: self.plan.range(of: run.lowerBound).lowerBound, to: self.plan.range(of: last - 1).upperBound)
        }
        return self.steal(splittable)
    }

    /// Records that segment `id` has written up to `position`; returns the chunks that became complete.
    public mutating func advance(_ id: Int, to position: Int64) -> [Int] {
        guard var segment = self.active[id] else { return [] }
        let from = segment.position
        segment.position = min(position, segment.end)
        self.active[id] = segment
        // Segments start on chunk boundaries, so every chunk ending in (from, position] was written whole by it.
        var completed: [Int] = []
        var chunk = self.plan.chunk(containing: from)
        while chunk < self.plan.count {
            let r = self.plan.range(of: chunk)
            if r.upperBound > segment.position { break }
            if r.upperBound > from && !self.done[chunk] {
                self.done[chunk] = true
                completed.append(chunk)
            }
            chunk += 1
        }
        return completed
    }

    public func segment(_ id: Int) -> Segment? { self.active[id] }

    /// Records the end of the Range request segment `id` is about to send.
    public mutating func setRequestEnd(_ id: Int, _ end: Int64) {
        self.active[id]?.requestEnd = end
    }

    /// Makes `id` the one segment, covering the whole blob from byte 0 (a server that ignores Range).
    public mutating func makeWhole(_ id: Int) -> Bool {
        guard self.active[id] != nil else { return false }
        for other in self.active.keys where other != id { self.release(other) }
        self.active[id] = Segment(id: id, position: 0, end: self.plan.size)
        self.startOf[id] = 0
        return true
    }

    /// The segment ended (done, or given up): its unwritten chunks return to the pool.
    public mutating func release(_ id: Int) {
        self.active[id] = nil
        self.startOf[id] = nil
    }

    /// Bytes from 0 that are certainly written: whole done chunks, plus the written part of a segment running there.
    public func frontier() -> Int64 {
        var offset: Int64 = 0
        while offset < self.plan.size {
            let chunk = self.plan.chunk(containing: offset)
            if self.done[chunk] {
                offset = self.plan.range(of: chunk).upperBound
                continue
            }
            if let running = self.active.values.first(where: { $0.position > offset && self.segmentStart($0) <= offset }) {
                offset = running.position
                continue
            }
            break
        }
        return min(offset, self.plan.size)
    }

    // MARK: private

    private var startOf: [Int: Int64] = [:]

    private func segmentStart(_ s: Segment) -> Int64 { self.startOf[s.id] ?? s.position }

    private mutating func open(from start: Int64, to end: Int64) -> Segment {
        let s = Segment(id: self.nextID, position: start, end: end)
        self.nextID += 1
        self.active[s.id] = s
        self.startOf[s.id] = start
        return s
    }

    private func owned(_ chunk: Int) -> Bool {
        let r = self.plan.range(of: chunk)
        return self.active.values.contains { self.segmentStart($0) <= r.lowerBound && r.lowerBound < $0.end && $0.position < r.upperBound }
    }

    private func firstUnownedRun() -> Range<Int>? {
        var i = 0
        while i < self.plan.count {
            if !self.done[i] && !self.owned(i) {
                var j = i + 1
                while j < self.plan.count && !self.done[j] && !self.owned(j) { j += 1 }
                return i..<j
            }
            i += 1
        }
        return nil
    }

    /// Splits the segment with the most whole chunks left after the one it is writing, at a chunk boundary in the
    /// middle of them, and never below its request in flight, whose bytes are on their way.
    private mutating func steal(_ splittable: (Segment) -> Bool) -> Segment? {
        var best: (id: Int, mid: Int64, spare: Int)?
        for s in self.active.values {
            let current = self.plan.chunk(containing: s.position)
            let lastChunk = self.plan.chunk(containing: s.end - 1)
            let spare = lastChunk - current  // whole chunks after the one in progress
            let inFlight = Int((s.requestEnd + self.plan.chunkSize - 1) / self.plan.chunkSize)
            let midChunk = max(current + 1 + spare / 2, inFlight)
            guard spare >= 1, midChunk <= lastChunk, best == nil || spare > best!.spare, splittable(s) else { continue }
            best = (s.id, self.plan.range(of: midChunk).lowerBound, spare)
        }
        guard let victim = best, var segment = self.active[victim.id] else { return nil }
        let end = segment.end
        segment.end = victim.mid
        self.active[victim.id] = segment
        return self.open(from: victim.mid, to: end)
    }
}

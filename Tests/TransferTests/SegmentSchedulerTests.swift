import Testing
@testable import Transfer

/// Segments handed to connections: every byte exactly once, stealing at chunk boundaries, the hashable frontier.
@Suite struct SegmentSchedulerTests {
    static let chunk: Int64 = 100

    static func scheduler(chunks: Int, last: Int64 = chunk, connections: Int, done: Set<Int> = []) -> SegmentScheduler {
        let plan = ChunkPlan(size: Int64(chunks - 1) * chunk + last, chunkSize: chunk)
        return SegmentScheduler(plan: plan, done: (0..<plan.count).map { done.contains($0) }, connections: connections)
    }

    @Test("first claims split the pending chunks evenly at chunk boundaries")
    func evenClaims() throws {
        var s = Self.scheduler(chunks: 8, connections: 4)
        var segments: [SegmentScheduler.Segment] = []
        for _ in 0..<4 {
            let claimed = s.claim()
            segments.append(try #require(claimed))
        }
        #expect(segments.map(\.position) == [0, 200, 400, 600])
        #expect(segments.map(\.end) == [200, 400, 600, 800])
        #expect(Set(segments.map(\.id)).count == 4)
    }

    /// Random interleaving of connections that claim, write a little, finish, or give up (failure), as workers do.
    /// Bytes are written up to the segment's current end only (the real worker re-reads the end before writing).
    @Test("claims cover the blob exactly once, whatever the interleaving (with stealing and failures)", arguments: 0..<40)
    func coverage(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let chunks = 1 + Int(rng.next() % 40)
        let last = 1 + Int64(rng.next() % UInt64(Self.chunk))
        let connections = 1 + Int(rng.next() % 8)
        let resumed = Set((0..<chunks).filter { _ in rng.next() % 4 == 0 })
        var s = Self.scheduler(chunks: chunks, last: last, connections: connections, done: resumed)
        let size = s.plan.size
        var written = [Int](repeating: 0, count: Int(size))
        for c in resumed { for b in s.plan.range(of: c) { written[Int(b)] = 1 } }
        var completed = Array(resumed)
        var slots = [Int?](repeating: nil, count: connections)
        var idleRounds = 0
        while !s.isComplete {
            let k = Int(rng.next() % UInt64(connections))
            guard let id = slots[k] else {
                if let seg = s.claim() {
                    #expect(seg.position % Self.chunk == 0, "a claim starts on a chunk boundary")
                    #expect(seg.end == size || seg.end % Self.chunk == 0, "a claim ends on a chunk boundary")
                    #expect(seg.position < seg.end)
                    slots[k] = seg.id
                    idleRounds = 0
                } else {
                    idleRounds += 1
                    try #require(idleRounds < 10_000, "no claim possible but the blob is not complete")
                }
                continue
            }
            let seg = try #require(s.segment(id))
            if seg.isDone || rng.next() % 50 == 0 {
                // Finished, or the connection failed for good: what it did not write goes back to the pool.
                s.release(id)
                slots[k] = nil
                continue
            }
            let step = 1 + Int64(rng.next() % UInt64(Self.chunk * 2))
            let to = min(seg.position + step, seg.end)
            for b in seg.position..<to { written[Int(b)] += 1 }
            completed += s.advance(id, to: to)
        }
        #expect(completed.count == s.plan.count, "each chunk is reported complete exactly once")
        #expect(Set(completed).count == s.plan.count)
        // Bytes of a chunk abandoned half way are fetched again (from the chunk's start); none is skipped.
        #expect(written.allSatisfy { $0 >= 1 }, "every byte written")
        #expect(s.frontier() == size)
    }

    @Test("without failures no byte is fetched twice, stealing included", arguments: 0..<20)
    func exactlyOnce(seed: UInt64) throws {
        var rng = SplitMix(seed: seed &+ 1000)
        let connections = 2 + Int(rng.next() % 6)
        var s = Self.scheduler(chunks: 24, last: 37, connections: connections)
        var written = [Int](repeating: 0, count: Int(s.plan.size))
        var slots = [Int?](repeating: nil, count: connections)
        var steals = 0
        while !s.isComplete {
            let k = Int(rng.next() % UInt64(connections))
            guard let id = slots[k] else {
                let endsBefore = s.active.mapValues(\.end)
                if let seg = s.claim() {
                    if s.active.contains(where: { $0.key != seg.id && $0.value.end < endsBefore[$0.key] ?? .max }) { steals += 1 }
                    slots[k] = seg.id
                }
                continue
            }
            let seg = try #require(s.segment(id))
            if seg.isDone {
                s.release(id)
                slots[k] = nil
                continue
            }
            // Connections run at very different speeds.
            let step = Int64(1 + Int(rng.next() % UInt64(20 * (k + 1))))
            let to = min(seg.position + step, seg.end)
            for b in seg.position..<to { written[Int(b)] += 1 }
            _ = s.advance(id, to: to)
        }
        #expect(written.allSatisfy { $0 == 1 }, "bytes written more than once: \(written.enumerated().filter { $0.element != 1 }.prefix(5).map(\.offset))")
        #expect(steals > 0, "idle connections took work from slower ones")
    }

    @Test("an idle connection takes the second half of the slowest segment's unstarted chunks")
    func stealing() throws {
        var s = Self.scheduler(chunks: 8, connections: 2)
        let aClaim = s.claim()
        let a = try #require(aClaim)  // [0, 400)
        let bClaim = s.claim()
        let b = try #require(bClaim)  // [400, 800)
        _ = s.advance(a.id, to: 50)  // in chunk 0; chunks 1, 2, 3 not started
        _ = s.advance(b.id, to: 800)
        s.release(b.id)
        let stolenClaim = s.claim()
        let stolen = try #require(stolenClaim)
        #expect(stolen.position == 200 && stolen.end == 400, "split at a chunk boundary in the middle of the unstarted chunks")
        #expect(s.segment(a.id)?.end == 200, "the victim now stops where the thief starts")
        #expect(s.segment(a.id)?.position == 50)
        // The longest tail is the one split.
        var t = Self.scheduler(chunks: 12, connections: 3)
        let xClaim = t.claim()
        let x = try #require(xClaim)  // [0, 400)
        let yClaim = t.claim()
        let y = try #require(yClaim)  // [400, 800)
        let zClaim = t.claim()
        let z = try #require(zClaim)  // [800, 1200)
        _ = t.advance(x.id, to: 350)  // on its last chunk: nothing to give
        _ = t.advance(y.id, to: 410)  // chunks 5, 6, 7 spare
        _ = t.advance(z.id, to: 1050)  // chunk 11 spare
        let thiefClaim = t.claim()
        let thief = try #require(thiefClaim)
        #expect(thief.position == 600 && thief.end == 800)
        #expect(t.segment(y.id)?.end == 600)
    }

    @Test("only segments the caller finds worth splitting are stolen from; unowned chunks are claimed regardless")
    func splittable() throws {
        var s = Self.scheduler(chunks: 8, connections: 1)
        let aClaim = s.claim()
        let a = try #require(aClaim)  // [0, 800): the whole blob
        #expect(a.position == 0 && a.end == 800)
        #expect(s.claim(splittable: { _ in false }) == nil, "nothing unowned, and the one segment is not to be split")
        let stolenClaim = s.claim(splittable: { $0.id == a.id })
        let stolen = try #require(stolenClaim)
        #expect(stolen.position == 400 && stolen.end == 800)
        s.release(stolen.id)  // given up: its chunks are unowned again
        let againClaim = s.claim(splittable: { _ in false })
        let again = try #require(againClaim)
        #expect(again.position == 400 && again.end == 800)
    }

    @Test("nothing to steal from a segment on its last chunk")
    func nothingToSteal() throws {
        var s = Self.scheduler(chunks: 2, connections: 2)
        let aClaim = s.claim()
        let a = try #require(aClaim)
        let bClaim = s.claim()
        let b = try #require(bClaim)
        #expect(a.end - a.position == 100 && b.end - b.position == 100)
        let none = s.claim()
        #expect(none == nil)
        _ = s.advance(a.id, to: 100)
        s.release(a.id)
        let stillNone = s.claim()
        #expect(stillNone == nil)
    }

    @Test("a segment given up returns its unwritten chunks from the chunk boundary; finished chunks are kept")
    func releaseReturnsChunks() throws {
        var s = Self.scheduler(chunks: 4, connections: 1)
        let aClaim = s.claim()
        let a = try #require(aClaim)
        let finished = s.advance(a.id, to: 250)
        #expect(finished == [0, 1])
        s.release(a.id)
        let againClaim = s.claim()
        let again = try #require(againClaim)
        #expect(again.position == 200 && again.end == 400)
    }

    @Test("resumed chunks are never claimed again")
    func resumed() throws {
        var s = Self.scheduler(chunks: 6, connections: 2, done: [0, 1, 4])
        let aClaim = s.claim()
        let a = try #require(aClaim)
        #expect(a.position == 200)
        // Claims stop at done chunks: runs are contiguous pending chunks.
        #expect(a.end <= 400)
        var claimed: [Range<Int64>] = [a.position..<a.end]
        while let next = s.claim() { claimed.append(next.position..<next.end) }
        for r in claimed {
            for done in [0, 1, 4] {
                #expect(!r.overlaps(s.plan.range(of: done)), "claimed \(r) overlaps a finished chunk")
            }
        }
        #expect(Self.scheduler(chunks: 3, connections: 2, done: [0, 1, 2]).isComplete)
        var complete = Self.scheduler(chunks: 3, connections: 2, done: [0, 1, 2])
        let nothing = complete.claim()
        #expect(nothing == nil)
    }

    @Test("the frontier is the contiguous written prefix: done chunks, then the bytes of the segment writing there")
    func frontier() throws {
        var s = Self.scheduler(chunks: 6, connections: 3, done: [3])
        #expect(s.frontier() == 0)
        let aClaim = s.claim()
        let a = try #require(aClaim)  // [0, 100)? pending 5 chunks / 3 connections = 1 chunk each
        let bClaim = s.claim()
        let b = try #require(bClaim)
        #expect(a.position == 0 && b.position == 100)
        _ = s.advance(b.id, to: 170)
        #expect(s.frontier() == 0, "a later segment's bytes do not count before the gap is filled")
        _ = s.advance(a.id, to: 60)
        #expect(s.frontier() == 60)
        _ = s.advance(a.id, to: 100)
        #expect(s.frontier() == 170, "chunk 0 done, then segment b's written part")
        _ = s.advance(b.id, to: 200)
        #expect(s.frontier() == 200, "chunk 2 not started: the frontier stops there, even though chunk 3 is done")
        let cClaim = s.claim()
        let c = try #require(cClaim)
        #expect(c.position == 200)
        _ = s.advance(c.id, to: 300)
        #expect(s.frontier() == 400, "through resumed chunk 3")
    }

    @Test("makeWhole turns one segment into the single stream from byte 0")
    func whole() throws {
        var s = Self.scheduler(chunks: 5, last: 30, connections: 4)
        let aClaim = s.claim()
        let a = try #require(aClaim)
        let bClaim = s.claim()
        let b = try #require(bClaim)
        let made = s.makeWhole(b.id)
        #expect(made)
        #expect(s.segment(a.id) == nil)
        #expect(s.segment(b.id)?.position == 0 && s.segment(b.id)?.end == s.plan.size)
        let all = s.advance(b.id, to: s.plan.size)
        #expect(all.count == 5)
        #expect(s.isComplete)
        let unknown = s.makeWhole(999)
        #expect(!unknown)
    }
}

/// A small deterministic generator, so a failing seed can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

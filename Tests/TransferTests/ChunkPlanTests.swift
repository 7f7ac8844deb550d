import Testing
@testable import Transfer

@Suite struct ChunkPlanTests {
    @Test("chunks cover the blob contiguously; only the last one may be short")
    func cover() {
        for (size, chunk) in [(Int64(10), Int64(4)), (12, 4), (1, 4), (4, 4), (5, 4), (100_003, 1000), (1 << 33, 16 << 20)] {
            let plan = ChunkPlan(size: size, chunkSize: chunk)
            #expect(plan.count == Int((size + chunk - 1) / chunk))
            var next: Int64 = 0
            for i in 0..<plan.count {
                let r = plan.range(of: i)
                #expect(r.lowerBound == next, "chunk \(i) of \(size)/\(chunk) starts at \(r.lowerBound)")
                #expect(r.count == (i == plan.count - 1 ? Int(size - Int64(i) * chunk) : Int(chunk)))
                #expect(plan.chunk(containing: r.lowerBound) == i && plan.chunk(containing: r.upperBound - 1) == i)
                next = r.upperBound
            }
            #expect(next == size)
        }
    }

    @Test("an empty blob has no chunks")
    func empty() {
        #expect(ChunkPlan(size: 0, chunkSize: 1 << 20).count == 0)
    }

    @Test("DownloadOptions keep the chunk size and connections sane")
    func options() {
        let o = DownloadOptions(connections: 0, chunkSize: 1, attempts: 0)
        #expect(o.connections == 1 && o.chunkSize == 64 << 10 && o.attempts == 1)
        #expect(DownloadOptions().chunkSize == 16 << 20 && DownloadOptions().connections == 4)
    }
}

import Foundation
import TestSupport
import Testing
@testable import Transfer

/// `DownloadState`'s watchdog bookkeeping, with a real response whose reader is away.
@Suite struct DownloadStateTests {
    @Test("a segment whose reader waits for the disk is not stalled; once the write returns, its clock starts again")
    func writingIsNotStalled() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 4 << 20, seed: 416)
        defer { fixture.stop() }
        let dir = try TemporaryDirectory()
        let plan = ChunkPlan(size: Int64(fixture.blob.size), chunkSize: 1 << 20)
        let journal = try Journal(
            path: dir.appending("j").path, plan: plan, digest: fixture.blob.hex, dataPath: dir.appending("d").path)
        let state = DownloadState(scheduler: SegmentScheduler(plan: plan, done: Array(repeating: false, count: plan.count), connections: 1), journal: journal)
        let segment = try #require(state.claim())
        // Nobody reads this body, as when its reader is inside a long write: curl pauses, nothing arrives.
        let (response, body) = try await CurlEngine().execute(Request(url: fixture.url(), bufferLimit: 64 << 10))
        #expect(response.status == 200)
        state.attach(body, to: segment.id)

        state.writing(segment.id, true)
        try await Task.sleep(for: .milliseconds(300))
        state.cancelStalled(olderThan: 0.1)
        #expect(!state.takeStalled(segment.id), "cut while its reader waited for the disk")

        state.writing(segment.id, false)
        state.cancelStalled(olderThan: 0.1)
        #expect(!state.takeStalled(segment.id), "the clock did not start again when the write returned")

        try await Task.sleep(for: .milliseconds(300))
        state.cancelStalled(olderThan: 0.1)
        #expect(state.takeStalled(segment.id), "silent with nobody writing: stalled")
        state.detach(segment.id)
    }
}

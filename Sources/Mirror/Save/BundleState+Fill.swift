import Foundation
import Stores
import Transfer

extension BundleState {
    /// What filling a planned tar did.
    struct Filled {
        /// Blob members written by this run, and their bytes as fetched or copied.
        var written = 0
        var bytes: Int64 = 0
        /// Blob members an earlier run had already verified (their `.done` marker exists).
        var skipped = 0
    }

    /// Lays out `plan` (resuming an earlier run's partial when it matches), writes every blob member not yet marked
    /// done, `jobs` at a time, then moves the tar into place. `write` puts one member's verified bytes at its offsets
    /// and returns the bytes it fetched; members are marked done only behind a sync of the tar (`DoneMarker`).
    /// - Parameter order: the order the members are written in (largest first, or the order a source lends best).
    func fill(
        _ plan: BundlePlan, jobs: Int, progress: ProgressHandler?,
        order: ([BundlePlan.Member]) -> [BundlePlan.Member],
        write: @escaping @Sendable (BundlePlan.Member) async throws -> Int64
    ) async throws -> Filled {
        try self.prepare(plan, resume: self.canResume(plan))
        var filled = Filled()
        var work: [BundlePlan.Member] = []
        for member in plan.members where member.content == nil {
            guard let digest = member.digest else { continue }
            if FileManager.default.fileExists(atPath: self.donePath(digest.hex)) {
                filled.skipped += 1
                progress?(ProgressEvent(id: digest.description, kind: .skipped(total: member.header.size)))
                continue
            }
            work.append(member)
        }
        work = order(work)
        let marker = DoneMarker(state: self)
        do {
            try await forEachConcurrently(work, jobs: jobs) { member in
                let bytes = try await write(member)
                marker.finished(member.digest!, size: member.header.size)
                return bytes
            } collect: { filled.bytes += $0 }
        } catch {
            try? marker.flush()  // the write's error is the one to report
            throw error
        }
        try marker.flush()
        try self.finish()
        filled.written = work.count
        return filled
    }
}

import Testing
import Transfer
@testable import Mirror

/// Every job shares one connection budget across its blobs, used as a library as from the CLI.
@Suite struct CopyOptionsTests {
    @Test("a job without a budget gets one: as many connections as blobs in flight, or as one blob may use")
    func budgetPerJob() {
        #expect(CopyOptions(jobs: 8, download: DownloadOptions(connections: 4)).download.budget?.limit == 8)
        #expect(CopyOptions(jobs: 1, download: DownloadOptions(connections: 4)).download.budget?.limit == 4)
        #expect(Syncer.Options(push: PushOptions(jobs: 6)).download.budget?.limit == 6)
        // One given is kept, so several jobs can share it.
        let shared = ConnectionBudget(limit: 3)
        var download = DownloadOptions()
        download.budget = shared
        #expect(CopyOptions(jobs: 8, download: download).download.budget === shared)
    }
}

import Bench
import Foundation
import Testing

/// The gate on reports written to JSON files and read back, as `ferry bench --baseline` reads them.
@Suite struct RegressionGateTests {
    @Test("a run within the limit passes; every phase in both is compared")
    func passes() throws {
        let files = try ReportFiles()
        let baseline = try files.roundTrip(Reports.make(["push": [400, 410, 390], "pull": [800, 820, 790]]))
        let current = try files.roundTrip(Reports.make(["push": [380, 395, 370], "pull": [850, 860, 840]]))
        let verdict = RegressionGate.compare(baseline: baseline, current: current, maxRegressionPercent: 10)
        #expect(verdict.passed)
        #expect(verdict.compared.map(\.phase) == [.push, .pull])
        #expect(verdict.regressions.isEmpty)
        #expect(verdict.warnings.isEmpty)
        let push = try #require(verdict.compared.first)
        #expect(abs(push.percent - (380.0 - 400.0) / 400.0 * 100) < 1e-9)
    }

    @Test("a phase whose median fell further than the limit fails, named with its spread")
    func failsNamingPhase() throws {
        let files = try ReportFiles()
        let baseline = try files.roundTrip(Reports.make(["push": [400, 410, 390], "pull": [800, 820, 790], "hash": [1500, 1490, 1510]]))
        let current = try files.roundTrip(Reports.make(["push": [120, 130, 100], "pull": [780, 800, 790], "hash": [1000, 900, 1100]]))
        let verdict = RegressionGate.compare(baseline: baseline, current: current, maxRegressionPercent: 25)
        #expect(!verdict.passed)
        // push −70 % and hash −33 % fall beyond 25 %; pull −1 % does not.
        #expect(verdict.regressions.map(\.phase) == [.push, .hash])
        let push = try #require(verdict.regressions.first)
        #expect(Self.close(push.baseline, Spread(median: 400, min: 390, max: 410)))
        #expect(Self.close(push.current, Spread(median: 120, min: 100, max: 130)))
        #expect(push.description.contains("push: 400.0 → 120.0 MB/s"))
        #expect(push.description.contains("−70.0 %"))
        #expect(push.description.contains("baseline 390.0–410.0, now 100.0–130.0"))
    }

    /// MB/s come from bytes over seconds, so they round-trip only to within floating-point error.
    static func close(_ a: Spread, _ b: Spread) -> Bool {
        abs(a.median - b.median) < 1e-6 && abs(a.min - b.min) < 1e-6 && abs(a.max - b.max) < 1e-6
    }

    @Test("the limit is a bound: exactly at it passes, just beyond fails; faster never fails")
    func boundary() throws {
        let baseline = Reports.make(["push": [100]])
        #expect(RegressionGate.compare(baseline: baseline, current: Reports.make(["push": [50]]), maxRegressionPercent: 50).passed)
        #expect(!RegressionGate.compare(baseline: baseline, current: Reports.make(["push": [49.9]]), maxRegressionPercent: 50).passed)
        #expect(RegressionGate.compare(baseline: baseline, current: Reports.make(["push": [900]]), maxRegressionPercent: 0).passed)
    }

    @Test("phases missing on either side are listed, not failed")
    func missingPhases() throws {
        let files = try ReportFiles()
        let baseline = try files.roundTrip(Reports.make(["push": [400], "save": [300]]))
        let current = try files.roundTrip(Reports.make(["push": [400], "gzip": [90]]))
        let verdict = RegressionGate.compare(baseline: baseline, current: current, maxRegressionPercent: 10)
        #expect(verdict.passed)
        #expect(verdict.compared.map(\.phase) == [.push])
        #expect(verdict.missingNow == [.save])
        #expect(verdict.missingInBaseline == [.gzip])
    }

    @Test("different parameters or machines are warned about")
    func mismatchedParameters() throws {
        let baseline = Reports.make(["push": [400]])
        var current = Reports.make(["push": [400]])
        current.parameters.imageBytes = 64 << 20
        current.parameters.registry = "reg.example:5000"
        current.machine.cores = 16
        let verdict = RegressionGate.compare(baseline: baseline, current: current, maxRegressionPercent: 10)
        #expect(verdict.passed)
        #expect(verdict.warnings.contains { $0.contains("image_bytes") && $0.contains("\(64 << 20)") })
        #expect(verdict.warnings.contains { $0.contains("registry") && $0.contains("reg.example:5000") })
        #expect(verdict.warnings.contains { $0.contains("machine") && $0.contains("16 cores") })
        #expect(!verdict.warnings.contains { $0.contains("busier") })
    }

    @Test("a run on a much busier machine is warned about")
    func busierMachine() {
        let baseline = Reports.make(["push": [400]])
        var current = Reports.make(["push": [100]])
        current.machine.loadAverageEnd = 9.5
        let verdict = RegressionGate.compare(baseline: baseline, current: current, maxRegressionPercent: 10)
        #expect(!verdict.passed)
        #expect(verdict.warnings.contains { $0.contains("busier") && $0.contains("9.5") && $0.contains("0.6") })
    }
}

/// Report fixtures.
enum Reports {
    /// A report with one Ferry run per value (MB/s) for each named phase; 100 MB per run.
    static func make(_ phases: [String: [Double]], version: String = "0.1.0") -> BenchReport {
        let bytes: Int64 = 100_000_000
        let results = phases.keys.sorted().map { name -> PhaseResult in
            let runs = phases[name]!.map { rate in
                RunSample(wallSeconds: Double(bytes) / 1e6 / rate, cpuUserSeconds: 0.5, cpuSystemSeconds: 0.25, peakRSSBytes: 50_000_000, retries: 0, bytes: bytes)
            }
            return PhaseResult(phase: Phase(rawValue: name)!, bytes: bytes, command: "ferry \(name)", runs: runs, peers: [])
        }
        return BenchReport(
            ferryVersion: version, date: "2026-11-21T12:00:00Z",
            machine: Machine(cores: 2, memoryBytes: 24 << 30, kernel: "Linux 6.1.0 x86_64", os: "Debian GNU/Linux 12 (bookworm)", loadAverageStart: 0.5, loadAverageEnd: 0.6),
            parameters: Parameters(
                imageBytes: 512 << 20, images: 2, layers: 4, compressible: false, runs: phases.values.first?.count ?? 1,
                codecBytes: 256 << 20, throttleBytes: 64 << 20, throttleRate: 10_000_000, throttleConnections: 8, registry: "local", compare: []),
            phases: results)
    }
}

/// A temporary directory for report files, removed on deinit.
final class ReportFiles {
    let directory: String
    private var count = 0

    init() throws {
        self.directory = NSTemporaryDirectory() + "bench-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: self.directory) }

    /// Writes the report as `ferry bench --json` does and reads it back as `--baseline` does.
    func roundTrip(_ report: BenchReport) throws -> BenchReport {
        self.count += 1
        let path = "\(self.directory)/report-\(self.count).json"
        try report.write(path)
        return try BenchReport.read(path)
    }
}

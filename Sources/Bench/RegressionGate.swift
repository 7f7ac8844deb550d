/// The regression gate: each phase's median MB/s now against the baseline's. Pure, so it is tested on reports
/// alone; `ferry bench --baseline FILE --max-regression PCT` exits 1 when `Verdict.passed` is false.
public enum RegressionGate {
    /// One phase in both reports.
    public struct Change: Sendable, Equatable {
        public var phase: Phase
        public var baseline: Spread
        public var current: Spread
        /// Percent change of the median, negative when slower (−60 = 60 % slower).
        public var percent: Double

        /// "push: 412.3 → 95.1 MB/s (−76.9 %; baseline 398.0–420.7, now 90.2–99.4)".
        public var description: String {
            func f(_ x: Double) -> String { Format.rate(x) }
            return "\(self.phase.rawValue): \(f(self.baseline.median)) → \(f(self.current.median)) MB/s "
                + "(\(Format.signedPercent(self.percent)); baseline \(f(self.baseline.min))–\(f(self.baseline.max)), "
                + "now \(f(self.current.min))–\(f(self.current.max)))"
        }
    }

    public struct Verdict: Sendable {
        /// Every phase found in both reports, in phase order.
        public var compared: [Change]
        /// Phases slower than the limit allows.
        public var regressions: [Change]
        /// In the baseline but not measured now (not a failure: a run may pick its phases).
        public var missingNow: [Phase]
        /// Measured now but not in the baseline: nothing to compare with.
        public var missingInBaseline: [Phase]
        /// Differences that make the comparison doubtful (parameters, machine, schema).
        public var warnings: [String]

        public var passed: Bool { self.regressions.isEmpty }
    }

    /// Compares medians. A phase regressed when its median fell by more than `maxRegressionPercent` of the
    /// baseline's median. Faster is never a failure.
    public static func compare(baseline: BenchReport, current: BenchReport, maxRegressionPercent: Double) -> Verdict {
        var compared: [Change] = []
        var missingNow: [Phase] = []
        for old in baseline.phases.sorted(by: { $0.phase < $1.phase }) {
            guard let new = current.phase(old.phase) else {
                missingNow.append(old.phase)
                continue
            }
            let base = old.mbPerSecond.median
            let percent = base > 0 ? (new.mbPerSecond.median - base) / base * 100 : 0
            compared.append(Change(phase: old.phase, baseline: old.mbPerSecond, current: new.mbPerSecond, percent: percent))
        }
        let missingInBaseline = current.phases.map(\.phase).filter { baseline.phase($0) == nil }.sorted()
        let regressions = compared.filter { $0.percent < -maxRegressionPercent }
        return Verdict(
            compared: compared, regressions: regressions, missingNow: missingNow, missingInBaseline: missingInBaseline,
            warnings: self.warnings(baseline: baseline, current: current))
    }

    /// What differs between the runs besides the code under test.
    static func warnings(baseline: BenchReport, current: BenchReport) -> [String] {
        var out: [String] = []
        let a = baseline.parameters, b = current.parameters
        func check<T: Equatable>(_ name: String, _ x: T, _ y: T) {
            if x != y { out.append("parameter \(name) differs: baseline \(x), now \(y)") }
        }
        check("image_bytes", a.imageBytes, b.imageBytes)
        check("images", a.images, b.images)
        check("layers", a.layers, b.layers)
        check("compressible", a.compressible, b.compressible)
        check("codec_bytes", a.codecBytes, b.codecBytes)
        check("throttle_bytes", a.throttleBytes, b.throttleBytes)
        check("throttle_rate", a.throttleRate, b.throttleRate)
        check("throttle_connections", a.throttleConnections, b.throttleConnections)
        check("registry", a.registry, b.registry)
        check("runs", a.runs, b.runs)
        if baseline.machine.cores != current.machine.cores || baseline.machine.memoryBytes != current.machine.memoryBytes {
            out.append("machine differs: baseline \(baseline.machine.cores) cores, now \(current.machine.cores) cores")
        }
        // A run on a busy machine is slower for reasons that are not the change under test.
        let loadBefore = max(baseline.machine.loadAverageStart, baseline.machine.loadAverageEnd)
        let loadNow = max(current.machine.loadAverageStart, current.machine.loadAverageEnd)
        if loadNow > Double(current.machine.cores), loadNow > 2 * max(loadBefore, 0.5) {
            out.append(String(format: "the machine was busier: load average up to %.1f now, %.1f in the baseline; rerun when it is quiet before trusting a regression", loadNow, loadBefore))
        }
        if baseline.schemaVersion != current.schemaVersion {
            out.append("schema_version differs: baseline \(baseline.schemaVersion), now \(current.schemaVersion)")
        }
        return out
    }
}

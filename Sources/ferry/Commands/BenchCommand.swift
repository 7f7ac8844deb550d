import ArgumentParser
import Bench
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput per phase, compare with peers and a baseline.",
        discussion: """
            Makes synthetic images, starts a local registry (or uses --registry, in a fresh repository \
            ferry-bench-<random> that is deleted afterwards where the registry allows DELETE), and measures each \
            phase --runs times: bytes, wall time, MB/s, CPU time, peak RSS and retries, each from the child \
            process that did the work (ferry itself is run as a child, like the peers). Needs ferry-testkit next \
            to ferry. The table goes to stderr; docs/bench-json.md describes --json.

            Phases (default: all):
            \(Phase.allCases.map { "  \($0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))

            Peers (--compare), run on the same data in the same run; ratio = ferry MB/s ÷ peer MB/s:
              skopeo    push, pull, save, load, sync
              aria2     throttled (ferry also runs with --connections 1 there)
              pigz      gzip
              zstd      zstd
              openssl   hash
              all       every peer above

            Examples:
              ferry bench --compare skopeo --json bench.json --plot bench.svg
              ferry bench push pull --size 64MiB --runs 5
              ferry bench --baseline bench.json --max-regression 15   # exit 1 if slower
              ferry bench --registry registry.corp.example:5000 --ca-cert corp-ca.pem \\
                  push pull
              ferry bench --from v1.json --from v2.json --plot versions.svg   # plot only
            """
    )

    @Argument(help: ArgumentHelp("Phases to run (see above), or all.", valueName: "scenario"))
    var scenarios: [String] = []

    @Option(help: ArgumentHelp("Image bytes in total.", valueName: "size"))
    var size: ByteSize = ByteSize(512 << 20)

    @Option(help: "Number of images the bytes are spread over.")
    var images: Int = 2

    @Option(help: "Layers per image.")
    var layers: Int = 4

    @Flag(help: "Layers of repetitive text instead of random bytes.")
    var compressible = false

    @Option(help: "Runs per phase; the median is reported and compared.")
    var runs: Int = 3

    @Option(name: .customLong("codec-size"), help: ArgumentHelp("Bytes of log-like text for hash, gzip and zstd.", valueName: "size"))
    var codecSize: ByteSize = ByteSize(256 << 20)

    @Option(name: .customLong("throttle-size"), help: ArgumentHelp("The throttled phase's blob.", valueName: "size"))
    var throttleSize: ByteSize = ByteSize(64 << 20)

    @Option(name: .customLong("throttle-rate"), help: ArgumentHelp("The cap per connection, bytes per second (10MB = 10^7).", valueName: "rate"))
    var throttleRate: ByteSize = ByteSize(10_000_000)

    @Option(name: .customLong("throttle-connections"), help: "Connections for the throttled blob.")
    var throttleConnections: Int = 8

    @Option(help: ArgumentHelp("Also run these on the same data: skopeo, aria2, pigz, zstd, openssl, all (repeatable, or comma separated).", valueName: "peer"))
    var compare: [String] = []

    @Option(help: ArgumentHelp("Benchmark this registry instead of a local one.", valueName: "host[:port]"))
    var registry: String?

    @Option(name: .customLong("tls-verify"), help: "Verify the registry's TLS certificate; false also allows plain HTTP.")
    var tlsVerify: Bool = true

    @Option(name: .customLong("ca-cert"), help: ArgumentHelp("A PEM CA certificate to trust for --registry.", valueName: "file"))
    var caCert: String?

    @Option(help: ArgumentHelp("Credentials for --registry.", valueName: "user:pass"))
    var creds: String?

    @Option(help: ArgumentHelp("Write the report as JSON (docs/bench-json.md).", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Draw MB/s per phase as SVG (several --from reports: one bar per report).", valueName: "file.svg"))
    var plot: String?

    @Option(help: ArgumentHelp("Compare each phase's median with this earlier report.", valueName: "file"))
    var baseline: String?

    @Option(name: .customLong("max-regression"), help: ArgumentHelp("With --baseline: exit 1 when a phase's median MB/s fell by more than this.", valueName: "percent"))
    var maxRegression: Double = 10

    @Option(help: ArgumentHelp("Use this report instead of running (repeatable; the last one is compared with --baseline).", valueName: "file"))
    var from: [String] = []

    @Option(name: .customLong("work-dir"), help: ArgumentHelp("Where the data goes (a fresh directory inside, removed afterwards).", valueName: "dir"))
    var workDir: String?

    @Flag(help: "Keep the work directory.")
    var keep = false

    @Flag(name: .shortAndLong, help: "No progress lines (the table is still printed).")
    var quiet = false

    func run() async throws {
        let inputs: [(label: String, report: BenchReport)]
        let current: BenchReport
        let baseline: BenchReport?
        do {
            guard self.maxRegression >= 0 else { throw BenchError(.usage, "--max-regression must be 0 or more") }
            baseline = try self.baseline.map { try BenchReport.read($0) }
            if self.from.isEmpty {
                let scenario = try self.scenario()
                let tools = try Tools.locate()
                current = try await self.measure(scenario, tools: tools)
                inputs = [("ferry \(current.ferryVersion)", current)]
            } else {
                guard self.scenarios.isEmpty else { throw BenchError(.usage, "--from uses earlier reports: name no phases with it") }
                let reports = try self.from.map { try BenchReport.read($0) }
                // A version label, or the file name when versions repeat (the same version before and after a change).
                let versions = reports.map(\.ferryVersion)
                let unique = Set(versions).count == versions.count
                inputs = zip(self.from, reports).map { path, report in
                    (unique ? "ferry \(report.ferryVersion)" : (path as NSString).lastPathComponent, report)
                }
                current = reports.last!
            }
            if let json = self.json { try current.write(json) }
            Self.stderr(Table.render(current))
            if let plot = self.plot {
                do {
                    try SVGPlot.render(inputs).write(toFile: plot, atomically: true, encoding: .utf8)
                } catch {
                    throw BenchError(.failed, "cannot write \(plot): \(error.localizedDescription)")
                }
            }
            if let baseline { try self.gate(baseline: baseline, current: current) }
        } catch let error as BenchError {
            Run.fail(error.message)
            throw error.code == .usage ? ExitCode.validationFailure : ExitCode.failure
        }
    }

    /// Runs the scenario with Ctrl-C/SIGTERM stopping every child and removing the work directory.
    private func measure(_ scenario: Scenario, tools: Tools) async throws -> BenchReport {
        let quiet = self.quiet
        let runner = BenchRunner(
            scenario: scenario, tools: tools, ferryVersion: Ferry.configuration.version,
            log: { line in if !quiet { Self.stderr("bench: \(line)") } })
        let work = Task { try await runner.run() }
        let signals = SignalWatcher { _ in work.cancel() }
        defer { signals.stop() }
        do {
            return try await work.value
        } catch {
            if let signal = signals.received {
                Run.fail("bench interrupted: its registries and children are stopped and its data removed")
                throw ExitCode(128 + signal)
            }
            throw error
        }
    }

    private func gate(baseline: BenchReport, current: BenchReport) throws {
        let verdict = RegressionGate.compare(baseline: baseline, current: current, maxRegressionPercent: self.maxRegression)
        for warning in verdict.warnings { Self.stderr("bench: warning: \(warning)") }
        if !verdict.missingNow.isEmpty {
            Self.stderr("bench: not measured now, so not compared: \(verdict.missingNow.map(\.rawValue).joined(separator: ", "))")
        }
        if !verdict.missingInBaseline.isEmpty {
            Self.stderr("bench: not in the baseline, so not compared: \(verdict.missingInBaseline.map(\.rawValue).joined(separator: ", "))")
        }
        for change in verdict.compared { Self.stderr("bench: \(change.description)") }
        guard verdict.passed else {
            throw BenchError(
                .regression,
                "\(verdict.regressions.count) phase(s) slower than the baseline by more than \(String(format: "%g", self.maxRegression)) %: "
                    + verdict.regressions.map(\.description).joined(separator: "; "))
        }
        Self.stderr("bench: no phase fell more than \(String(format: "%g", self.maxRegression)) % below the baseline (\(verdict.compared.count) compared)")
    }

    private func scenario() throws -> Scenario {
        var scenario = Scenario()
        // No phases named: the default, all. BenchRunner runs them in order.
        let phases = try Phase.parse(self.scenarios)
        if !phases.isEmpty { scenario.phases = phases }
        scenario.imageBytes = self.size.bytes
        scenario.images = self.images
        scenario.layers = self.layers
        scenario.compressible = self.compressible
        scenario.runs = self.runs
        scenario.codecBytes = self.codecSize.bytes
        scenario.throttleBytes = self.throttleSize.bytes
        scenario.throttleRate = self.throttleRate.bytes
        scenario.throttleConnections = self.throttleConnections
        scenario.compare = try Peer.parse(self.compare)
        scenario.registry = self.registry.map { $0.hasPrefix("docker://") ? String($0.dropFirst("docker://".count)) : $0 }
        scenario.tlsVerify = self.tlsVerify
        scenario.caCert = self.caCert
        scenario.creds = self.creds
        scenario.workDir = self.workDir
        scenario.keep = self.keep
        return scenario
    }

    private static func stderr(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

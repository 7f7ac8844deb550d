import Foundation

/// Runs a `Scenario`: starts what it needs (a registry, a throttling proxy), makes the data, measures Ferry and
/// the peers run by run, alternating them so drift on a shared machine hits all alike, and stops and removes
/// everything it made, on errors and Ctrl-C (task cancellation) too.
///
/// Every measurement is a child process reaped with `wait4` (Ferry itself included, as `ferry copy|save|load|sync`
/// or `ferry-testkit codec`), so wall time, CPU time and peak RSS are measured the same way for every tool.
public struct BenchRunner: Sendable {
    public let scenario: Scenario
    public let tools: Tools
    public let ferryVersion: String
    /// Progress lines ("push run 1/3: …"), for stderr.
    public let log: @Sendable (String) -> Void

    public init(scenario: Scenario, tools: Tools, ferryVersion: String, log: @escaping @Sendable (String) -> Void) {
        self.scenario = scenario
        self.tools = tools
        self.ferryVersion = ferryVersion
        self.log = log
    }

    public func run() async throws -> BenchReport {
        try self.scenario.validate()
        var tools = self.tools
        for peer in self.scenario.compare where !peer.phases.isDisjoint(with: self.scenario.phases) {
            tools.peers[peer] = try Tools.resolve(peer)
        }
        let date = ISO8601DateFormatter().string(from: Date())
        var machine = Machine.probe()
        let work = try Self.makeWorkDirectory(under: self.scenario.workDir)
        self.log("work directory \(work)\(self.scenario.keep ? " (kept)" : "")")
        var session = Session(scenario: self.scenario, tools: tools, work: work, log: self.log)
        defer {
            session.stopServices()
            if !self.scenario.keep { try? FileManager.default.removeItem(atPath: work) }
        }
        var results: [PhaseResult] = []
        do {
            try await session.prepare()
            for phase in self.scenario.phases.sorted() {
                if let result = try await session.measure(phase) { results.append(result) }
            }
        } catch {
            await session.cleanUpRegistry()
            throw error
        }
        await session.cleanUpRegistry()
        machine.loadAverageEnd = Machine.loadAverage()
        return BenchReport(
            ferryVersion: self.ferryVersion, date: date, machine: machine, parameters: self.scenario.parameters, phases: results)
    }

    static func makeWorkDirectory(under parent: String?) throws -> String {
        let base = parent ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        do {
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        } catch {
            throw BenchError(.usage, "cannot use --work-dir \(base): \(error.localizedDescription)")
        }
        var template = Array("\(base)/ferry-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchError(.usage, "cannot make a directory in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}

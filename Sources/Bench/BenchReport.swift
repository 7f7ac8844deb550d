import Foundation

/// What `ferry bench --json` writes and `--baseline`/`--from` read: documented in docs/bench-json.md.
/// Fields may be added (readers ignore unknown keys); renaming or removing one bumps `schemaVersion`.
public struct BenchReport: Codable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var ferryVersion: String
    /// ISO 8601, UTC, when the run started.
    public var date: String
    public var machine: Machine
    public var parameters: Parameters
    public var phases: [PhaseResult]

    public init(ferryVersion: String, date: String, machine: Machine, parameters: Parameters, phases: [PhaseResult]) {
        self.schemaVersion = Self.currentSchemaVersion
        self.ferryVersion = ferryVersion
        self.date = date
        self.machine = machine
        self.parameters = parameters
        self.phases = phases
    }

    public func phase(_ phase: Phase) -> PhaseResult? { self.phases.first { $0.phase == phase } }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", ferryVersion = "ferry_version", date, machine, parameters, phases
    }

    /// Reads a report, refusing a schema this Ferry does not know.
    public static func read(_ path: String) throws -> BenchReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError(.usage, "cannot read \(path): no such file (write one with ferry bench --json \(path))")
        }
        let report: BenchReport
        do {
            report = try JSONDecoder().decode(BenchReport.self, from: data)
        } catch {
            throw BenchError(.usage, "\(path) is not a ferry bench report (docs/bench-json.md): \(error)")
        }
        guard report.schemaVersion <= Self.currentSchemaVersion else {
            throw BenchError(.usage, "\(path) has schema_version \(report.schemaVersion); this ferry reads up to \(Self.currentSchemaVersion): upgrade ferry")
        }
        return report
    }

    public func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try (encoder.encode(self) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw BenchError(.failed, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// The machine a report was measured on, so figures from different machines are not compared unknowingly.
public struct Machine: Codable, Sendable, Hashable {
    public var cores: Int
    public var memoryBytes: Int64
    public var kernel: String
    public var os: String
    /// 1-minute load average when the run started and when it ended: other work on the machine skews figures.
    public var loadAverageStart: Double
    public var loadAverageEnd: Double

    public init(cores: Int, memoryBytes: Int64, kernel: String, os: String, loadAverageStart: Double, loadAverageEnd: Double) {
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.kernel = kernel
        self.os = os
        self.loadAverageStart = loadAverageStart
        self.loadAverageEnd = loadAverageEnd
    }

    enum CodingKeys: String, CodingKey {
        case cores, memoryBytes = "memory_bytes", kernel, os, loadAverageStart = "load_average_start", loadAverageEnd = "load_average_end"
    }
}

/// What was measured: changing any of these changes the figures, so the gate warns when they differ.
public struct Parameters: Codable, Sendable, Hashable {
    /// Bytes of image data in total (push, pull, save, load, sync).
    public var imageBytes: Int64
    public var images: Int
    /// Layers per image.
    public var layers: Int
    public var compressible: Bool
    public var runs: Int
    /// Bytes of log-like text for hash, gzip and zstd.
    public var codecBytes: Int64
    /// The throttled phase: blob size, cap per connection (bytes/s), connections.
    public var throttleBytes: Int64
    public var throttleRate: Int64
    public var throttleConnections: Int
    /// "local" (a registry ferry bench started) or the HOST[:PORT] given with --registry.
    public var registry: String
    /// Peers asked for with --compare.
    public var compare: [String]

    public init(
        imageBytes: Int64, images: Int, layers: Int, compressible: Bool, runs: Int, codecBytes: Int64,
        throttleBytes: Int64, throttleRate: Int64, throttleConnections: Int, registry: String, compare: [String]
    ) {
        self.imageBytes = imageBytes
        self.images = images
        self.layers = layers
        self.compressible = compressible
        self.runs = runs
        self.codecBytes = codecBytes
        self.throttleBytes = throttleBytes
        self.throttleRate = throttleRate
        self.throttleConnections = throttleConnections
        self.registry = registry
        self.compare = compare
    }

    enum CodingKeys: String, CodingKey {
        case imageBytes = "image_bytes", images, layers, compressible, runs, codecBytes = "codec_bytes"
        case throttleBytes = "throttle_bytes", throttleRate = "throttle_rate", throttleConnections = "throttle_connections"
        case registry, compare
    }
}

/// One phase: Ferry's runs and their spread, and each peer's on the same data in the same run.
public struct PhaseResult: Codable, Sendable {
    public var phase: Phase
    /// Bytes one run moves (or reads, for the codecs); MB/s is this over the wall time.
    public var bytes: Int64
    /// What Ferry ran, one command per line of the run (for the record; paths are the run's temporary ones).
    public var command: String
    public var runs: [RunSample]
    /// MB/s over the runs.
    public var mbPerSecond: Spread
    public var peers: [PeerResult]

    public init(phase: Phase, bytes: Int64, command: String, runs: [RunSample], peers: [PeerResult]) {
        self.phase = phase
        self.bytes = bytes
        self.command = command
        self.runs = runs
        self.mbPerSecond = runs.mbPerSecond
        self.peers = peers
    }

    enum CodingKeys: String, CodingKey {
        case phase, bytes, command, runs, mbPerSecond = "mb_per_s", peers
    }
}

/// A peer (or Ferry in another configuration, such as one connection) on the same data as the phase.
public struct PeerResult: Codable, Sendable {
    public var name: String
    public var command: String
    public var runs: [RunSample]
    public var mbPerSecond: Spread
    /// Ferry's median MB/s over this one's: above 1, Ferry is faster.
    public var ratio: Double

    public init(name: String, command: String, runs: [RunSample], ferryMedian: Double) {
        self.name = name
        self.command = command
        self.runs = runs
        self.mbPerSecond = runs.mbPerSecond
        self.ratio = self.mbPerSecond.median > 0 ? ferryMedian / self.mbPerSecond.median : 0
    }

    enum CodingKeys: String, CodingKey {
        case name, command, runs, mbPerSecond = "mb_per_s", ratio
    }
}

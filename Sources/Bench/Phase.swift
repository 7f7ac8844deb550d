/// What `ferry bench` measures, in the order it runs them.
public enum Phase: String, CaseIterable, Codable, Sendable, Comparable {
    /// OCI layout → registry (`ferry copy oci:… docker://…`).
    case push
    /// Registry → OCI layout (`ferry copy docker://… oci:…`).
    case pull
    /// Registry → bundle (`ferry save`).
    case save
    /// Bundle → registry (`ferry load`).
    case load
    /// Registry → registry (`ferry sync`).
    case sync
    /// sha256 of a file (the Codec pipeline Ferry hashes blobs with).
    case hash
    /// gzip level 6 (Ferry's parallel gzip).
    case gzip
    /// zstd level 3 (libzstd with workers).
    case zstd
    /// One big blob through a per-connection cap (ferry-testkit proxy), `--connections N`.
    case throttled

    /// Phases that move images and so need a registry.
    public var needsRegistry: Bool {
        switch self {
        case .push, .pull, .save, .load, .sync, .throttled: true
        case .hash, .gzip, .zstd: false
        }
    }

    /// Phases that read the seeded source images from the registry.
    var readsSeededImages: Bool { [.pull, .save, .sync, .load].contains(self) }

    public var isCodec: Bool { [.hash, .gzip, .zstd].contains(self) }

    /// One line for `--help` and the docs.
    public var summary: String {
        switch self {
        case .push: "OCI layout → registry (ferry copy oci: docker://)"
        case .pull: "registry → OCI layout (ferry copy docker:// oci:)"
        case .save: "registry → bundle (ferry save)"
        case .load: "bundle → registry (ferry load)"
        case .sync: "registry → registry (ferry sync)"
        case .hash: "sha256 of log-like text (Codec pipeline)"
        case .gzip: "gzip -6 of log-like text (parallel gzip)"
        case .zstd: "zstd -3 of log-like text (libzstd workers)"
        case .throttled: "one big blob through a per-connection cap, N connections vs 1"
        }
    }

    /// Parses the phases named on the command line: names, comma lists, or `all` (the rules of `Peer.parse`).
    public static func parse(_ values: [String]) throws -> [Phase] {
        try parseNames(values) { name in
            if name == "all" { return Phase.allCases }
            if let phase = Phase(rawValue: name) { return [phase] }
            throw BenchError(.usage, "unknown phase '\(name)': use \(Phase.allCases.map(\.rawValue).joined(separator: ", ")) or all")
        }
    }

    public static func < (a: Phase, b: Phase) -> Bool {
        Self.allCases.firstIndex(of: a)! < Self.allCases.firstIndex(of: b)!
    }
}

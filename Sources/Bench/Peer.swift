/// Other tools run on the same data in the same run (`--compare`), since absolute figures drift between runs on
/// shared machines but ratios measured side by side hold.
public enum Peer: String, CaseIterable, Sendable, Codable {
    /// `skopeo copy` for push, pull, save (to `oci:`), load (from the `oci:` layouts) and sync.
    case skopeo
    /// `aria2c -xN -sN` for the throttled blob (a local registry: aria2c fetches the blob URL itself).
    case aria2
    /// `pigz -pCORES -6` for gzip.
    case pigz
    /// `zstd -TCORES -3` for zstd.
    case zstd
    /// `openssl dgst -sha256` for hash.
    case openssl

    public var phases: Set<Phase> {
        switch self {
        case .skopeo: [.push, .pull, .save, .load, .sync]
        case .aria2: [.throttled]
        case .pigz: [.gzip]
        case .zstd: [.zstd]
        case .openssl: [.hash]
        }
    }

    /// The executable looked up in PATH.
    var executable: String {
        switch self {
        case .aria2: "aria2c"
        default: self.rawValue
        }
    }

    /// Parses `--compare` values: names, comma lists, or `all`.
    public static func parse(_ values: [String]) throws -> [Peer] {
        try parseNames(values) { name in
            if name == "all" { return Peer.allCases }
            if let peer = Peer(rawValue: name == "aria2c" ? "aria2" : name) { return [peer] }
            throw BenchError(.usage, "--compare \(name): use skopeo, aria2, pigz, zstd, openssl or all")
        }
    }
}

/// The rules `Peer.parse` and `Phase.parse` share: repeatable values, each a comma list of names, trimmed and any
/// case; `match` gives what one name means. Each result once, first mention first.
func parseNames<T: Hashable>(_ values: [String], _ match: (String) throws -> [T]) throws -> [T] {
    var out: [T] = []
    for value in values {
        for name in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            out += try match(name)
        }
    }
    var seen = Set<T>()
    return out.filter { seen.insert($0).inserted }
}

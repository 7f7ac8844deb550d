import Foundation
import OCI
import Stores
import Transfer

/// One line of the `--map FILE` that `ferry load` and `ferry sync` write and `ferry rewrite` reads:
/// where a source image went, and the digest it was pushed with.
public struct ImageMapEntry: Sendable, Hashable, Codable {
    public var source: Reference
    public var target: Reference
    public var digest: Digest

    public init(source: Reference, target: Reference, digest: Digest) {
        self.source = source
        self.target = target
        self.digest = digest
    }

    /// The target pinned to the pushed digest: `REG/NS/app:1.0@sha256:…`.
    public var pinned: Reference { self.target.with(digest: self.digest) }
}

/// The `--map FILE` format, JSON `[{"source", "target", "digest"}]` (DESIGN §2).
public enum ImageMap {
    /// Reads a map file; every reference and digest is validated.
    public static func read(from path: String) throws(MirrorError) -> [ImageMapEntry] {
        let data: [UInt8]
        do {
            data = try readSmallFile(path)
        } catch {
            throw MirrorError(.failed, "cannot read the map \(path): \(error.message)")
        }
        do {
            return try JSONDecoder().decode([ImageMapEntry].self, from: Data(data))
        } catch let DecodingError.dataCorrupted(context) {
            throw MirrorError(.failed, "\(path) is not a Ferry image map: \(context.debugDescription)")
        } catch {
            throw MirrorError(.failed, "\(path) is not a Ferry image map ([{\"source\", \"target\", \"digest\"}]): \(error)")
        }
    }

    /// The JSON for `entries`, sorted by source so the file diffs well between runs.
    public static func encode(_ entries: [ImageMapEntry]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let sorted = entries.sorted { $0.source.description < $1.source.description }
        // Encoding strings and validated values cannot fail.
        return (try? encoder.encode(sorted)) ?? Data("[]".utf8)
    }

    /// Writes where `images` were pushed, for `--map`.
    public static func write(pushed images: [PushResult.Image], to path: String) throws(MirrorError) {
        try Self.write(images.map { ImageMapEntry(source: $0.source, target: $0.target, digest: $0.digest) }, to: path)
    }

    /// Writes `entries` to `path` atomically.
    public static func write(_ entries: [ImageMapEntry], to path: String) throws(MirrorError) {
        do {
            try writeAtomically(Array(Self.encode(entries) + Data("\n".utf8)), to: path)
        } catch {
            throw MirrorError(.failed, "--map: \(error.message)")
        }
    }

    /// The entry for `reference`: the same full reference, else (when it has a digest) the same repository
    /// and digest, else the same repository and tag. A map written from `app:1.0` answers for
    /// `app:1.0@sha256:…` only when the digests agree.
    public static func entry(for reference: Reference, in entries: [ImageMapEntry]) -> ImageMapEntry? {
        if let exact = entries.first(where: { $0.source == reference }) { return exact }
        let sameName = entries.filter { $0.source.name == reference.name }
        if let digest = reference.digest {
            return sameName.first { $0.source.digest == digest || $0.digest == digest }
        }
        return sameName.first { $0.source.tag == reference.tag }
    }
}

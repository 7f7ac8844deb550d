import Foundation
import OCI
import Stores

/// The bundle a delta builds on (`save --since OLD`): the blobs it carries, read from its small sidecar
/// (`OLD.ferry.json`) when the old multi-GB bundle is not at hand, else from the bundle's own members.
public struct DeltaBase: Sendable {
    public var source: String
    public var blobs: Set<Digest>
    /// Names the base in the delta's `index.json`: sha256 of its sorted blob digests.
    public var fingerprint: String

    public static let annotation = "dev.ferry.delta.base"

    public init(path: String) throws {
        var blobs = Set<Digest>()
        let sidecar = path.hasSuffix(".ferry.json") ? path : path + ".ferry.json"
        if let data = FileManager.default.contents(atPath: sidecar) {
            do {
                let s = try JSONDecoder().decode(Sidecar.self, from: data)
                for b in s.blobs { blobs.insert(try Digest(b.digest)) }
            } catch {
                throw MirrorError(.usage, "--since \(path): \(sidecar) is not a Ferry sidecar: \(error)")
            }
            self.source = sidecar
        } else if FileManager.default.fileExists(atPath: path) {
            do {
                for entry in try TarReader(path: path).entries() {
                    guard let name = ArchivePath.normalized(entry.name), name.hasPrefix("blobs/sha256/") else { continue }
                    if let d = try? Digest("sha256:" + name.dropFirst("blobs/sha256/".count)) { blobs.insert(d) }
                }
            } catch {
                throw MirrorError(.usage, "--since \(path): \(error)")
            }
            self.source = path
        } else {
            throw MirrorError(.usage, "--since \(path): neither the bundle nor its sidecar \(sidecar) exists")
        }
        self.blobs = blobs
        self.fingerprint = "sha256:" + SHA256Hex.of(blobs.map(\.description).sorted().joined(separator: "\n"))
    }
}

import Codec

enum SHA256Hex {
    static func of(_ text: String) -> String { SHA256.hexDigest(Array(text.utf8)) }
}

import Codec
import Foundation
import Glibc
import OCI
import Stores

/// The blobs of a docker archive for a push: configs and compressed layers straight from the archive, each
/// uncompressed layer compressed again (the second pass) into a spool file just before its upload, checked
/// against the digest the first pass found, and removed once it is in. A spooled layer whose upload failed stays,
/// so the same command run again sends it without compressing it again.
struct DockerLayerSource: PushSource {
    let base: ArchiveSource
    let archive: DockerArchive
    /// Under `$XDG_STATE_HOME/ferry/spool/`, never beside the archive (which may be on read-only media).
    let spool: String

    var description: String { self.base.description }
    var fetchesOnDemand: Bool { true }

    func region(of digest: Digest) -> BlobRegion? { self.base.region(of: digest) }

    func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T {
        if let region = self.base.region(of: blob.digest) {
            guard region.size == blob.size else {
                throw MirrorError(.failed, "\(image): \(blob.digest) is \(region.size) bytes in \(self.description), its descriptor says \(blob.size)")
            }
            return try await body(region)
        }
        guard let layer = self.archive.uncompressedLayer(blob.digest) else {
            throw MirrorError(.failed, "\(image): blob \(blob.digest) is not in \(self.description)")
        }
        let path = "\(self.spool)/\(blob.digest.hex)"
        if !fileHolds(path, digest: blob.digest, size: blob.size) {
            try FileManager.default.createDirectory(atPath: self.spool, withIntermediateDirectories: true)
            try await Self.compress(layer, to: path)
        }
        let result = try await body(BlobRegion(path: path, offset: 0, size: blob.size))
        unlink(path)
        return result
    }

    /// The second pass: the same pipeline as the first, into a file that lands at `path` only with the digest
    /// the manifest names.
    static func compress(_ layer: DockerArchive.UncompressedLayer, to path: String) async throws {
        let partial = path + ".\(UUID().uuidString.prefix(8)).partial"
        defer { unlink(partial) }
        let pipeline = Pipeline(decoding: .none, encoding: .gzip(DockerArchive.gzip), hashes: [.output])
        let result = try await pipeline.run(from: try FileSource(region: layer.member), to: try FileSink(path: partial))
        guard result.output.sha256 == layer.digest.hex, result.output.size == layer.size else {
            throw MirrorError(.failed, "compressing the layer at byte \(layer.member.offset) of \(layer.member.path) again gave \(result.output), not \(layer.digest) (\(layer.size) bytes) as the first time; the file changed while it was read: run the command again once nothing writes to it")
        }
        guard rename(partial, path) == 0 else {
            throw MirrorError(.failed, "cannot move \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

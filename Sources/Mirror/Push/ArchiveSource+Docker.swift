import Codec
import Foundation
import Glibc
import OCI
import Stores

extension ArchiveSource {
    /// Opens a `docker load` archive without `index.json` (old `docker save`, `skopeo copy … docker-archive:`),
    /// planning only the images at `selected` positions of its `manifest.json` (all when nil). Blocks while layers
    /// are hashed and compressed once (see `DockerArchive`): call it through `ArchiveSource.opening(_:)`.
    init(dockerArchive tar: TarArchive, selected: Set<Int>? = nil) throws {
        self.archive = try DockerArchive(tar, selected: selected)
    }

    /// Opens a compressed archive without frame index, planning only the images at `selected` positions of its
    /// `manifest.json` (all when nil). Blocks for pass 1 (see `StreamedArchive`).
    init(streamed archive: StreamedArchive) {
        self.archive = archive
    }

    /// The images of the docker archive behind this source, when it is one.
    var dockerImages: [DockerArchive.Image]? {
        (self.archive as? DockerArchive)?.images ?? (self.archive as? StreamedArchive)?.images
    }

    /// What pushes read blobs from: this source itself, or, for a docker archive with uncompressed layers, a
    /// source that compresses them when they are needed.
    public var pushSource: any PushSource {
        if let streamed = self.archive as? StreamedArchive {
            return StreamedBlobSource(base: self, archive: streamed, spool: RegistryBlobSource.defaultSpool())
        }
        guard let docker = self.archive as? DockerArchive, docker.needsCompression else { return self }
        return DockerLayerSource(base: self, archive: docker, spool: RegistryBlobSource.defaultSpool())
    }

    /// `ArchiveSource(opening:)` on a thread of its own: opening a docker archive reads every layer once, which
    /// must not hold one of Swift's few cooperative threads for minutes.
    public static func opening(_ location: String) async throws -> ArchiveSource {
        try await offPool { try ArchiveSource(opening: location) }
    }
}

/// Runs blocking work (file reads, pipelines waited for with `runBlocking`) on a dedicated thread.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = "ferry-archive"
        thread.start()
    }
}

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
        guard let recipe = self.archive.recipe(blob.digest) else {
            throw MirrorError(.failed, "\(image): blob \(blob.digest) is not in \(self.description)")
        }
        let path = "\(self.spool)/\(blob.digest.hex)"
        if !RegistryBlobSource.holdsVerified(path, blob) {
            try FileManager.default.createDirectory(atPath: self.spool, withIntermediateDirectories: true)
            try await Self.compress(recipe, to: path)
        }
        let result = try await body(BlobRegion(path: path, offset: 0, size: blob.size))
        unlink(path)
        return result
    }

    /// The second pass: the same pipeline as the first, into a file that lands at `path` only with the digest
    /// the manifest names.
    static func compress(_ recipe: DockerArchive.Recipe, to path: String) async throws {
        let partial = path + ".\(UUID().uuidString.prefix(8)).partial"
        defer { unlink(partial) }
        let pipeline = Pipeline(decoding: .none, encoding: .gzip(DockerArchive.gzip), hashes: [.output])
        let result = try await pipeline.run(from: try FileSource(region: recipe.member), to: try FileSink(path: partial))
        guard result.output.sha256 == recipe.digest.hex, result.output.size == recipe.size else {
            throw MirrorError(.failed, "compressing the layer at byte \(recipe.member.offset) of \(recipe.member.path) again gave \(result.output), not \(recipe.digest) (\(recipe.size) bytes) as the first time; the file changed while it was read")
        }
        guard rename(partial, path) == 0 else {
            throw MirrorError(.failed, "cannot move \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

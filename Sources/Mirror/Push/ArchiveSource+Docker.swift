import Foundation
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

import Foundation
import OCI
import Stores

/// One image read in place from a file or directory: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` (a Ferry bundle,
/// skopeo's, a Docker 25+ save), `docker-archive:FILE[:REPO:TAG|:@N]` (any `docker load` archive).
struct LocalImage: Sendable {
    let source: ArchiveSource
    /// The `index.json` entry (real or, for a docker archive, synthesized) of the image.
    let descriptor: Descriptor
    /// The image's full name when the archive gives one (RepoTags, `io.containerd.image.name`).
    let name: Reference?
    /// Where pushes and copies read blobs from.
    var blobs: any PushSource { self.source.pushSource }

    static func open(_ location: ImageLocation) async throws -> LocalImage {
        switch location {
        case .layout(let path, let tag):
            let source = try ArchiveSource(opening: "oci:" + path)
            return try Self.select(tag, in: source)
        case .ociArchive(let path, let tag):
            let source = try await ArchiveSource.opening(try Self.archiveFile(path))
            return try Self.select(tag, in: source)
        case .dockerArchive(let path, let reference):
            let file = try Self.archiveFile(path)
            if CompressedTarFile.format(of: file) != nil {
                return try await Self.openCompressed(path, reference: reference)
            }
            let tar = try TarArchive.safe(path: file)
            // A Ferry bundle or a Docker 25+ save is also a docker archive, with index.json to plan from.
            guard !tar.contains("index.json") else {
                return try Self.select(reference, in: try await ArchiveSource.opening(path))
            }
            guard tar.contains("manifest.json") else {
                throw MirrorError(.failed, "\(path) is not a docker archive: it has no manifest.json")
            }
            let chosen = try Self.choose(reference, among: try DockerArchive.entries(tar), path: path)
            let source = try await offPool { try ArchiveSource(dockerArchive: tar, selected: [chosen]) }
            let image = source.dockerImages![0]
            return LocalImage(source: source, descriptor: image.manifest, name: Self.name(of: image, reference: reference))
        case .registry:
            preconditionFailure("a registry is not a local image")
        }
    }

    /// `docker-archive:FILE.tar.gz|.tar.zst`: a Ferry compressed bundle through its frame index, anything else streamed
    /// (`StreamedArchive`), pass 1 read once for choosing and planning.
    static func openCompressed(_ path: String, reference: String?) async throws -> LocalImage {
        let file: CompressedTarFile
        do { file = try CompressedTarFile(path: path) } catch { throw MirrorError(.failed, error.message) }
        let all: StreamedArchive
        if file.index != nil {
            // Seekable frames: a Ferry bundle (planned from index.json), or a docker save without one, read in order.
            let source = try await ArchiveSource.opening(path)
            guard let streamed = source.archive as? StreamedArchive else { return try Self.select(reference, in: source) }
            all = streamed
        } else {
            all = try await offPool { try StreamedArchive(file, selected: []) }
        }
        guard let entries = all.dockerEntries else {
            // Docker 25+ and OCI archives: planned from index.json.
            return try Self.select(reference, in: ArchiveSource(streamed: all))
        }
        let chosen = try Self.choose(reference, among: entries, path: path)
        let archive = try await offPool { try StreamedArchive(file, scan: all.scan, selected: [chosen]) }
        let image = archive.images![0]
        return LocalImage(source: ArchiveSource(streamed: archive), descriptor: image.manifest, name: Self.name(of: image, reference: reference))
    }

    /// The name a chosen docker archive image goes by: the one `reference` asked for, else its first RepoTag.
    static func name(of image: DockerArchive.Image, reference: String?) -> Reference? {
        let wanted = reference.flatMap { try? Reference(parsing: $0) }
        return wanted.flatMap { w in image.names.first { $0 == w } } ?? image.names.first
    }

    static func archiveFile(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw MirrorError(.usage, "\(path) does not exist") }
        guard !Verifier.isDirectory(path) else { throw MirrorError(.usage, "\(path) is a directory; an archive is a file (for a layout directory write oci:\(path))") }
        return path
    }

    /// Which `manifest.json` entry `docker-archive:FILE[:REPO:TAG|:@N]` means (skopeo's `@N` counts from 0).
    static func choose(_ reference: String?, among entries: [DockerArchiveEntry], path: String) throws -> Int {
        let listing = entries.enumerated().map { "  @\($0.offset): " + (($0.element.repoTags ?? []).isEmpty ? "(untagged)" : $0.element.repoTags!.joined(separator: ", ")) }.joined(separator: "\n")
        guard let reference else {
            guard entries.count == 1 else {
                throw MirrorError(.usage, "\(path) holds \(entries.count) images; say which with docker-archive:\(path):REPO:TAG or :@N:\n\(listing)")
            }
            return 0
        }
        if reference.hasPrefix("@") {
            guard let n = Int(reference.dropFirst()), entries.indices.contains(n) else {
                throw MirrorError(.usage, "\(path) has no image \(reference); it holds:\n\(listing)")
            }
            return n
        }
        let wanted: Reference
        do { wanted = try Reference(parsing: reference) } catch { throw MirrorError(.usage, "docker-archive:\(path):\(reference): \(error)") }
        guard let n = entries.firstIndex(where: { ($0.repoTags ?? []).contains { (try? Reference(parsing: $0)) == wanted } }) else {
            throw MirrorError(.usage, "\(path) has no image tagged \(reference); it holds:\n\(listing)")
        }
        return n
    }

    /// The `index.json` entry a tag or full name means, or the only one.
    static func select(_ tag: String?, in source: ArchiveSource) throws -> LocalImage {
        let descriptor: Descriptor
        if let tag, let wanted = ArchiveSource.fullName(tag), let named = try? source.images().first(where: { $0.name == wanted }) {
            descriptor = named.descriptor
        } else {
            descriptor = try source.image(tag: tag)
        }
        let annotations = descriptor.annotations ?? [:]
        let name = [annotations[AnnotationKey.containerdImageName], annotations[AnnotationKey.refName]].compactMap { $0 }.lazy.compactMap(ArchiveSource.fullName).first
        return LocalImage(source: source, descriptor: descriptor, name: name)
    }
}

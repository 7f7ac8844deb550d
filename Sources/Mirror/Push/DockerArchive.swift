import Codec
import Foundation
import Glibc
import OCI
import Stores

/// A `docker load` archive without `index.json`, seen as an OCI layout so `ArchiveSource` can plan and push it:
/// `docker save` before Docker 25 (`<id>/layer.tar` uncompressed, `<id>/json`, `<config-hex>.json`,
/// `manifest.json` last, images sharing layers) and `skopeo copy … docker-archive:` (`<diffid>.tar` layers,
/// `<id>/layer.tar` symlinks to them, which `TarArchive` follows inside the archive only).
///
/// Such archives hold no manifests, so each image gets the Docker v2 schema 2 manifest `docker push` would make:
/// the config as stored (so its digest is the image ID) and gzip layers. An uncompressed layer's gzip digest is
/// known only by compressing it: the first pass (here, when the archive is opened) compresses it into nothing to
/// learn digest and size and checks its DiffID against the config; the second pass, during the upload
/// (`DockerLayerSource`), compresses it again into a spool file: the parallel gzip encoder gives the same bytes
/// for the same input and options. Nothing is extracted and no uncompressed copy is made. Already compressed
/// layers (gzip or zstd magic) are pushed as they are, after their DiffID is checked the same way.
struct DockerArchive: RegionArchive {
    /// A layer stored as a plain tar, and the gzip blob its manifest names: digest and size as the first pass
    /// found them by compressing it, which the second pass must give again.
    struct UncompressedLayer: Sendable {
        var member: BlobRegion
        var digest: Digest
        var size: Int64
    }

    /// One `manifest.json` entry, planned.
    struct Image: Sendable {
        /// Position in `manifest.json`: what `docker-archive:FILE:@N` selects.
        var index: Int
        /// Its RepoTags as full references; empty for an untagged image.
        var names: [Reference]
        /// The synthesized manifest, as stored under `blobs/sha256/`.
        var manifest: Descriptor
    }

    /// Gzip options of both passes; they must not differ between the passes, since the digest depends on them.
    static let gzip = GzipOptions()
    /// A config is a few KiB; real ones with long histories stay far below this.
    static let configLimit = 8 << 20

    let tar: TarArchive
    let images: [Image]
    /// `index.json` and the synthesized manifests.
    private let virtual: [String: [UInt8]]
    /// `blobs/sha256/<hex>` → the tar member holding it as it is (configs, compressed layers).
    private let mapped: [String: String]
    /// `blobs/sha256/<hex>` → an uncompressed layer compressed when lent.
    private let uncompressed: [String: UncompressedLayer]

    var description: String { self.tar.path }
    var files: [String] { Array(self.virtual.keys) + Array(self.mapped.keys) + Array(self.uncompressed.keys) }
    var needsCompression: Bool { !self.uncompressed.isEmpty }

    func uncompressedLayer(_ digest: Digest) -> UncompressedLayer? { self.uncompressed["blobs/\(digest.algorithm)/\(digest.hex)"] }

    /// The entries of `manifest.json`, read without planning them (for listing and choosing).
    static func entries(_ tar: TarArchive) throws -> [DockerArchiveEntry] {
        try Self.entries(path: tar.path) { try tar.json([DockerArchiveEntry].self, "manifest.json") }
    }

    static func entries(path: String, _ decode: () throws -> [DockerArchiveEntry]) throws -> [DockerArchiveEntry] {
        let entries: [DockerArchiveEntry]
        do {
            entries = try decode()
        } catch {
            throw MirrorError(.failed, "\(path): manifest.json: \(error)")
        }
        guard !entries.isEmpty else { throw MirrorError(.failed, "\(path) holds no images (manifest.json is empty)") }
        return entries
    }

    /// Plans the images of `tar` whose `manifest.json` positions are in `selected` (all when nil): reads each
    /// config, hashes (and for uncompressed layers, compresses) every layer once, and checks every DiffID.
    /// Blocks the calling thread for as long as that takes: call it off Swift's cooperative pool.
    init(_ tar: TarArchive, selected: Set<Int>? = nil) throws {
        self.tar = tar
        var regions: [String: BlobRegion] = [:]
        let planned = try Self.plan(
            path: tar.path, entries: try Self.entries(tar), selected: selected, contains: tar.contains,
            read: { try tar.read($0, limit: $1) },
            layer: { name, what in
                guard let region = tar.region(name) else { return nil }
                regions[name] = region
                return try Self.analyze(region, name: name, what: what)
            })
        self.images = planned.images
        self.virtual = planned.virtual
        self.mapped = planned.mapped
        self.uncompressed = planned.compressed.mapValues { UncompressedLayer(member: regions[$0.member]!, digest: $0.digest, size: $0.size) }
    }

    /// What planning a docker archive gives, whatever reads its members (a tar in place, or a compressed one
    /// streamed by: `StreamedArchive`).
    struct Planned {
        var images: [Image] = []
        /// `index.json`, `oci-layout` and the synthesized manifests.
        var virtual: [String: [UInt8]] = [:]
        /// `blobs/sha256/<hex>` → the member holding it as it is (configs, compressed layers).
        var mapped: [String: String] = [:]
        /// `blobs/sha256/<hex>` → the uncompressed layer member it is compressed from.
        var compressed: [String: (member: String, digest: Digest, size: Int64)] = [:]
    }

    /// The planning itself: every selected entry's config read and its DiffIDs checked against what `layer` says
    /// each layer member is (descriptor as pushed, DiffID, whether it must be compressed; nil when absent).
    static func plan(
        path: String, entries: [DockerArchiveEntry], selected: Set<Int>?, contains: (String) -> Bool,
        read: (String, Int) throws -> [UInt8],
        layer: (_ name: String, _ what: String) throws -> (descriptor: Descriptor, diffID: Digest, compress: Bool)?
    ) throws -> Planned {
        var out = Planned()
        var indexEntries: [Descriptor] = []
        // Layers shared by images (old docker save: one `<id>/layer.tar` for all) are hashed once.
        var layers: [String: (descriptor: Descriptor, diffID: Digest, compress: Bool)] = [:]
        for (i, entry) in entries.enumerated() where selected?.contains(i) ?? true {
            let what = "\(path): image \(i) of manifest.json" + (entry.repoTags?.first.map { " (\($0))" } ?? "")
            let names = try (entry.repoTags ?? []).map { tag in
                do { return try Reference(parsing: tag) } catch { throw MirrorError(.failed, "\(what): RepoTag \"\(tag)\" is not an image reference: \(error)") }
            }
            guard let configName = ArchivePath.normalized(entry.config), contains(configName) else {
                throw MirrorError(.failed, "\(what): its config \(entry.config) is not in the archive; it is incomplete: save the image again")
            }
            let configBytes: [UInt8]
            let diffIDs: [Digest]
            do {
                configBytes = try read(configName, Self.configLimit)
                diffIDs = try Self.diffIDs(configBytes)
            } catch {
                throw MirrorError(.failed, "\(what): config \(entry.config): \(error)")
            }
            guard diffIDs.count == entry.layers.count else {
                throw MirrorError(.failed, "\(what): the config lists \(diffIDs.count) DiffIDs for \(entry.layers.count) layers; the archive is damaged (docker load would refuse it too): save the image again")
            }
            let config = Descriptor(mediaType: .dockerConfig, digest: try Digest(sha256Hex: SHA256.hexDigest(configBytes)), size: Int64(configBytes.count))
            out.mapped[Self.blobName(config.digest)] = configName

            var descriptors: [Descriptor] = []
            for (j, path) in entry.layers.enumerated() {
                guard let name = ArchivePath.normalized(path) else {
                    throw MirrorError(.failed, "\(what): layer \(path) is not in the archive; it is incomplete: save the image again")
                }
                if layers[name] == nil {
                    guard let facts = try layer(name, what) else { throw MirrorError(.failed, "\(what): layer \(path) is not in the archive; it is incomplete: save the image again") }
                    layers[name] = facts
                }
                let (descriptor, diffID, compress) = layers[name]!
                guard diffID == diffIDs[j] else {
                    throw MirrorError(.failed, "\(what): layer \(path) unpacks to \(diffID), but the config's DiffID \(j) is \(diffIDs[j]); the archive is damaged: save the image again")
                }
                if compress {
                    out.compressed[Self.blobName(descriptor.digest)] = (name, descriptor.digest, descriptor.size)
                } else {
                    out.mapped[Self.blobName(descriptor.digest)] = name
                }
                descriptors.append(descriptor)
            }
            let raw = try RawManifest(encoding: .image(Manifest(mediaType: .dockerManifest, config: config, layers: descriptors)))
            let digest = try Digest(sha256Hex: SHA256.hexDigest(raw.bytes))
            out.virtual[Self.blobName(digest)] = raw.bytes
            let manifest = raw.descriptor(digest: digest)
            out.images.append(Image(index: i, names: names, manifest: manifest))
            // One index.json entry per name, as an OCI layout lists a tagged image once per tag.
            for name in names {
                var named = manifest
                named.annotations = [AnnotationKey.refName: name.description, AnnotationKey.containerdImageName: name.description]
                indexEntries.append(named)
            }
            if names.isEmpty { indexEntries.append(manifest) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        out.virtual["index.json"] = Array(try encoder.encode(ImageIndex(mediaType: .ociIndex, manifests: indexEntries)))
        out.virtual["oci-layout"] = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
        return out
    }

    static func blobName(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.hex)" }

    /// `rootfs.diff_ids` of an image config.
    static func diffIDs(_ config: [UInt8]) throws -> [Digest] {
        struct Config: Decodable {
            struct RootFS: Decodable { var diff_ids: [Digest]? }
            var rootfs: RootFS?
        }
        let decoded = try JSONDecoder().decode(Config.self, from: Data(config))
        guard let ids = decoded.rootfs?.diff_ids else { throw MirrorError(.failed, "it has no rootfs.diff_ids: it is not an image config") }
        return ids
    }

    /// The descriptor a layer member is pushed as, and its DiffID, in one read of the member: gzip and zstd
    /// layers are hashed as they are and decompressed for the DiffID; a plain tar is compressed for the digest.
    static func analyze(_ region: BlobRegion, name: String, what: String) throws -> (descriptor: Descriptor, diffID: Digest, compress: Bool) {
        let format = CompressedTarFile.format(of: region.path, at: region.offset, size: region.size)
        let pipeline: Pipeline
        let mediaType: MediaType
        switch format {
        case .gzip:
            pipeline = Pipeline(decoding: .gzip, encoding: .none, hashes: [.input, .content])
            mediaType = .dockerLayerGzip
        case .zstd:
            pipeline = Pipeline(decoding: .zstd, encoding: .none, hashes: [.input, .content])
            mediaType = .dockerLayerZstd
        case nil:
            pipeline = Pipeline(decoding: .none, encoding: .gzip(Self.gzip), hashes: [.content, .output])
            mediaType = .dockerLayerGzip
        }
        let result: PipelineResult
        do {
            result = try pipeline.runBlocking(from: try FileSource(region: region), to: DiscardSink())
        } catch let e as MirrorError {
            throw MirrorError(e.code, "\(what): layer \(name): \(e.message)")
        } catch {
            throw MirrorError(.failed, "\(what): layer \(name) cannot be read: \(error)")
        }
        let blob = format == nil ? result.output : result.input
        return (
            Descriptor(mediaType: mediaType, digest: try Digest(sha256Hex: blob.sha256!), size: blob.size),
            try Digest(sha256Hex: result.content.sha256!),
            format == nil
        )
    }

    // MARK: ImageArchive

    func size(_ name: String) -> Int64? {
        if let bytes = self.virtual[name] { return Int64(bytes.count) }
        if let member = self.mapped[name] { return self.tar.size(member) }
        return self.uncompressed[name]?.size
    }

    func read(_ name: String, limit: Int) throws -> [UInt8] {
        if let bytes = self.virtual[name] { return bytes }
        if let member = self.mapped[name] { return try self.tar.read(member, limit: limit) }
        throw StoreError(.notFound, "\(self.tar.path) has no \(name) as it is (the layer is compressed when pushed)")
    }

    func sha256(_ name: String) throws -> String {
        if let bytes = self.virtual[name] { return SHA256.hexDigest(bytes) }
        if let member = self.mapped[name] { return try self.tar.sha256(member) }
        guard let layer = self.uncompressed[name] else { throw StoreError(.notFound, "\(self.tar.path) has no \(name)") }
        return layer.digest.hex
    }

    func region(_ name: String) -> BlobRegion? {
        self.mapped[name].flatMap(self.tar.region)
    }
}

import Codec
import Foundation
import OCI
import Stores

/// Images read in place from a Ferry bundle (`.tar`, never extracted) or an OCI layout directory (`oci:DIR`):
/// what `index.json` lists, each planned from the manifests inside, each blob handed out as a file region.
public struct ArchiveSource: PushSource {
    let archive: any RegionArchive
    public var description: String { self.archive.description }

    /// One `index.json` entry with the full image name it was saved under.
    public struct NamedImage: Sendable {
        public var name: Reference
        public var descriptor: Descriptor
    }

    /// Opens `BUNDLE.tar[.zst|.gz]`, a `docker save` archive (plain or compressed), `oci:DIR` or a layout directory.
    public init(opening location: String) throws {
        var path = location
        if path.hasPrefix("oci:") { path = String(path.dropFirst(4)) }
        if Verifier.isDirectory(path) {
            guard FileManager.default.fileExists(atPath: path + "/oci-layout"), FileManager.default.fileExists(atPath: path + "/index.json") else {
                throw MirrorError(.usage, "\(path) is not an OCI image layout (it needs oci-layout and index.json); give the directory that holds them, or a bundle written by ferry save")
            }
            self.archive = DirectoryArchive(root: path)
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw MirrorError(.usage, "\(location) does not exist")
        }
        if CompressedTarFile.format(of: path) != nil {
            let file: CompressedTarFile
            do { file = try CompressedTarFile(path: path) } catch { throw MirrorError(.failed, error.message) }
            if file.index != nil {
                // A Ferry compressed bundle: random access through its frame index.
                let compressed: CompressedTarArchive
                do {
                    compressed = try CompressedTarArchive(path: path, hashing: false)
                } catch let e as StoreError {
                    throw MirrorError(.failed, e.message)  // it names the file
                }
                try TarMembers.requireSafe(compressed.problems, path: path)
                if compressed.contains("index.json") {
                    self.archive = compressed
                    return
                }
                // No index.json: a docker save compressed into seekable frames, planned from manifest.json like
                // the unindexed ones below, in order.
                guard compressed.contains("manifest.json") else { throw Self.notAnImageArchive(path) }
            }
            // docker save | gzip, tar | zstd: read forward only, in at most two passes (`StreamedArchive`).
            self.archive = try StreamedArchive(file)
            return
        }
        let tar = try TarArchive.safe(path: path)
        guard tar.contains("index.json") else {
            if tar.contains("manifest.json") {
                // docker save before Docker 25, skopeo's docker-archive: planned from manifest.json (DockerArchive).
                self.archive = try DockerArchive(tar)
                return
            }
            throw Self.notAnImageArchive(path)
        }
        self.archive = tar
    }

    public func region(of digest: Digest) -> BlobRegion? {
        self.archive.region("blobs/\(digest.algorithm)/\(digest.hex)")
    }

    /// The entries of `index.json`, each named by `io.containerd.image.name` first, then by a full
    /// `org.opencontainers.image.ref.name` (Docker and containerd put only the tag there). Entries without a full
    /// name, and one name given to two different digests, are refused with the list of them.
    public func images() throws -> [NamedImage] {
        let index = try self.index()
        var out: [NamedImage] = []
        var seen: [Reference: Digest] = [:]
        var problems: [String] = []
        for d in index.manifests {
            let annotations = d.annotations ?? [:]
            let names = [annotations[AnnotationKey.containerdImageName], annotations[AnnotationKey.refName]].compactMap { $0 }
            guard let name = names.lazy.compactMap(Self.fullName).first else {
                let given = names.first.map { "is named only \"\($0)\" (a tag, not an image name)" } ?? "has no name"
                problems.append("index.json entry \(d.digest) \(given)")
                continue
            }
            if let other = seen[name] {
                if other != d.digest { problems.append("\(name) names both \(other) and \(d.digest)") }
                continue
            }
            seen[name] = d.digest
            out.append(NamedImage(name: name, descriptor: d))
        }
        guard problems.isEmpty else {
            throw MirrorError(.failed, "\(self.description): cannot tell what to push:\n  " + problems.joined(separator: "\n  ")
                + "\nferry load needs full image names in index.json (io.containerd.image.name, or org.opencontainers.image.ref.name), as ferry save writes them; push a single image with ferry copy oci:DIR:TAG docker://REGISTRY/REPO:TAG")
        }
        guard !out.isEmpty else { throw MirrorError(.failed, "\(self.description) holds no images (index.json is empty); save the images into it again with ferry save") }
        return out
    }

    /// The one entry `oci:DIR[:TAG]` means: the one whose name or tag is `tag`, or the only one.
    public func image(tag: String?) throws -> Descriptor {
        let entries = try self.index().manifests
        guard let tag else {
            guard entries.count == 1, let only = entries.first else {
                throw MirrorError(.usage, "\(self.description) holds \(entries.count) images; say which with oci:DIR:TAG")
            }
            return only
        }
        let matches = entries.filter { d in
            let names = [d.annotations?[AnnotationKey.refName], d.annotations?[AnnotationKey.containerdImageName]].compactMap { $0 }
            return names.contains(tag) || names.contains { Self.fullName($0)?.tag == tag }
        }
        guard let first = matches.first else {
            throw MirrorError(.usage, "\(self.description) has no image tagged \(tag)")
        }
        return first
    }

    /// Everything one image consists of, read from the archive: manifests checked against their digests
    /// (they are pushed as they are, so a damaged one would arrive with another digest), children before parents.
    public func plan(_ top: Descriptor, source: Reference, platform: PlatformChoice) throws -> ImagePlan {
        var manifests: [ImagePlan.StoredManifest] = []
        var blobs: [Descriptor] = []
        var seen = Set<Digest>()
        var chosen = try self.manifest(top, of: source)
        if case .one(let wanted) = platform, case .index(let index) = try Self.parse(chosen, source) {
            let child = try index.child(for: wanted, of: source)
            chosen = try self.manifest(child, of: source)
        }
        try self.walk(chosen, of: source, depth: 0, manifests: &manifests, blobs: &blobs, seen: &seen)
        return ImagePlan(source: source, top: chosen, manifests: manifests, blobs: blobs)
    }

    private func walk(
        _ stored: ImagePlan.StoredManifest, of source: Reference, depth: Int,
        manifests: inout [ImagePlan.StoredManifest], blobs: inout [Descriptor], seen: inout Set<Digest>
    ) throws {
        guard depth < 4 else { throw MirrorError(.failed, "\(source): indexes nested too deeply") }
        switch try Self.parse(stored, source) {
        case .index(let index):
            for child in index.manifests where seen.insert(child.digest).inserted {
                try self.walk(try self.manifest(child, of: source), of: source, depth: depth + 1, manifests: &manifests, blobs: &blobs, seen: &seen)
            }
        case .image(let manifest):
            for blob in manifest.blobs where seen.insert(blob.digest).inserted {
                blobs.append(blob)
            }
        }
        manifests.append(stored)
    }

    /// The manifest `d` names, read from the archive and checked against its digest.
    func manifest(_ d: Descriptor, of source: Reference) throws -> ImagePlan.StoredManifest {
        let name = "blobs/\(d.digest.algorithm)/\(d.digest.hex)"
        guard self.archive.contains(name) else {
            throw MirrorError(.failed, "\(source): manifest \(d.digest) is not in \(self.description); the archive is incomplete: run ferry verify \(self.description), and save the image again")
        }
        let bytes: [UInt8]
        do {
            bytes = try self.archive.read(name, limit: 4 << 20)
        } catch {
            throw MirrorError(.failed, "\(source): \(error)")
        }
        guard SHA256.hexDigest(bytes) == d.digest.hex else {
            throw MirrorError(.failed, "\(source): manifest \(d.digest) in \(self.description) does not match its digest; the file is damaged: run ferry verify")
        }
        do {
            return ImagePlan.StoredManifest(raw: try RawManifest(bytes: bytes, mediaType: d.mediaType), digest: d.digest)
        } catch {
            throw MirrorError(.failed, "\(source): manifest \(d.digest): \(error)")
        }
    }

    private func index() throws -> ImageIndex {
        do {
            return try self.archive.json(ImageIndex.self, "index.json")
        } catch {
            throw MirrorError(.failed, "\(self.description): index.json: \(error)")
        }
    }

    static func parse(_ stored: ImagePlan.StoredManifest, _ source: Reference) throws -> ManifestContent {
        do {
            return try stored.raw.parse()
        } catch {
            throw MirrorError(.failed, "\(source): manifest \(stored.digest): \(error)")
        }
    }

    /// The refusal for a file that is an archive of something other than images: what Ferry reads, and how to get one.
    static func notAnImageArchive(_ path: String) -> MirrorError {
        MirrorError(.failed, "\(path) holds neither index.json nor manifest.json: it is not a Ferry bundle, an OCI image layout archive or a docker save archive; write one with ferry save, docker save IMAGE… | gzip, or skopeo copy … oci-archive:FILE")
    }

    /// A name that says which image it is; a bare tag (`1.0`, `latest`) does not, and would otherwise be read
    /// as `docker.io/library/1.0`.
    static func fullName(_ text: String) -> Reference? {
        guard text.contains("/") || text.contains(":") || text.contains("@") else { return nil }
        return try? Reference(parsing: text)
    }
}

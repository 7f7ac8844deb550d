import Codec
import Foundation
import OCI
import Stores

/// A compressed archive without a frame index (`docker save | gzip`, `docker save | zstd`, a foreign OCI
/// `tar | gzip`), read forward only and never decompressed to disk: at most two passes over it, whatever the
/// number of blobs. Pass 1 (`ArchiveScan`, cached) lists the members, keeps the JSON metadata and learns each
/// `docker save` layer's digest and DiffID; this type then presents the archive as an OCI layout, as
/// `DockerArchive` does for a plain tar (an OCI archive already is one). Pass 2 (`StreamedBlobSource`) hands the
/// blobs to the uploads as the stream goes by.
struct StreamedArchive: RegionArchive {
    /// How one blob is made from the member holding it.
    struct Blob: Sendable {
        /// Data offset of the member in the tar: how pass 2 recognises it.
        var member: Int64
        var memberSize: Int64
        var digest: Digest
        /// Size as pushed.
        var size: Int64
        /// The member is a plain tar layer, gzip-compressed on the way (`DockerArchive.gzip`).
        var compress: Bool
    }

    let file: CompressedTarFile
    let scan: ArchiveScan
    let members: [String: TarMembers.Member]
    /// `index.json`, `oci-layout` and manifests synthesized for a docker archive.
    let virtual: [String: [UInt8]]
    /// `blobs/sha256/<hex>` → how it is made.
    let blobs: [String: Blob]
    /// The planned `manifest.json` entries of a docker archive; nil for an OCI archive.
    let images: [DockerArchive.Image]?
    /// All `manifest.json` entries of a docker archive, planned or not (for choosing); nil for an OCI archive.
    let dockerEntries: [DockerArchiveEntry]?

    var description: String { self.file.path }
    var files: [String] { Array(Set(self.members.keys).union(self.virtual.keys).union(self.blobs.keys)) }

    /// Reads (or takes from the cache) pass 1 of `file` and plans it. Blocks: call it off Swift's cooperative pool.
    init(_ file: CompressedTarFile, selected: Set<Int>? = nil) throws {
        try self.init(file, scan: try ArchiveScan.load(file), selected: selected)
    }

    init(_ file: CompressedTarFile, scan: ArchiveScan, selected: Set<Int>?) throws {
        self.file = file
        self.scan = scan
        let listing = TarMembers(scan.entries)
        try TarMembers.requireSafe(listing.problems, path: file.path)
        let members = listing.byName
        self.members = members
        let path = file.path

        var blobs: [String: Blob] = [:]
        if members["index.json"] != nil {
            // An OCI layout (Docker 25+ save, skopeo or regctl oci-archive, a Ferry bundle without index): its
            // blobs are pushed as stored.
            for (name, m) in members where name.hasPrefix("blobs/sha256/") {
                guard let digest = try? Digest(sha256Hex: String(name.dropFirst("blobs/sha256/".count))) else { continue }
                blobs[name] = Blob(member: m.offset, memberSize: m.size, digest: digest, size: m.size, compress: false)
            }
            self.virtual = [:]
            self.images = nil
            self.dockerEntries = nil
        } else if members["manifest.json"] != nil {
            let dockerEntries = try DockerArchive.entries(path: path) {
                try JSONDecoder().decode([DockerArchiveEntry].self, from: Data(try Self.read("manifest.json", limit: ArchiveScan.metadataLimit, members: members, scan: scan, path: path)))
            }
            let planned = try DockerArchive.plan(
                path: path, entries: dockerEntries, selected: selected, contains: { members[$0] != nil },
                read: { try Self.read($0, limit: $1, members: members, scan: scan, path: path) },
                layer: { name, what in
                    guard let m = members[name] else { return nil }
                    guard let layer = scan.layers[String(m.offset)] else {
                        throw MirrorError(.failed, "\(what): layer \(name) was taken for metadata by its name, not read as a layer")
                    }
                    let descriptor = Descriptor(mediaType: MediaType(rawValue: layer.mediaType), digest: try Digest(layer.digest), size: layer.size)
                    return (descriptor, try Digest(layer.diffID), layer.compress)
                })
            for (blob, name) in planned.mapped {
                guard let m = members[name] else { continue }
                let digest = try Digest(sha256Hex: String(blob.dropFirst("blobs/sha256/".count)))
                blobs[blob] = Blob(member: m.offset, memberSize: m.size, digest: digest, size: m.size, compress: false)
            }
            for (blob, layer) in planned.compressed {
                guard let m = members[layer.member] else { continue }
                blobs[blob] = Blob(member: m.offset, memberSize: m.size, digest: layer.digest, size: layer.size, compress: true)
            }
            self.virtual = planned.virtual
            self.images = planned.images
            self.dockerEntries = dockerEntries
        } else {
            throw ArchiveSource.notAnImageArchive(path)
        }
        self.blobs = blobs
    }

    func blob(_ digest: Digest) -> Blob? { self.blobs[DockerArchive.blobName(digest)] }

    /// A member's bytes as pass 1 kept them: only JSON metadata is kept.
    static func read(_ name: String, limit: Int, members: [String: TarMembers.Member], scan: ArchiveScan, path: String) throws -> [UInt8] {
        guard let m = members[name] else { throw StoreError(.notFound, "\(path) has no \(name)") }
        guard m.size <= Int64(limit) else { throw StoreError(.unsafe, "\(path): \(name) is \(m.size) bytes, too large for metadata") }
        if m.size == 0 { return [] }
        guard let data = scan.contents[String(m.offset)] else {
            throw StoreError(.unsafe, "\(path): \(name) is not JSON metadata (or is larger than \(ArchiveScan.metadataLimit >> 20) MiB)")
        }
        return [UInt8](data)
    }

    // MARK: ImageArchive

    func size(_ name: String) -> Int64? {
        if let bytes = self.virtual[name] { return Int64(bytes.count) }
        if let blob = self.blobs[name] { return blob.size }
        return self.members[name]?.size
    }

    func read(_ name: String, limit: Int) throws -> [UInt8] {
        if let bytes = self.virtual[name] { return bytes }
        if let blob = self.blobs[name], blob.compress {
            throw StoreError(.notFound, "\(self.file.path) has no \(name) as it is (the layer is compressed when pushed)")
        }
        return try Self.read(name, limit: limit, members: self.members, scan: self.scan, path: self.file.path)
    }

    func sha256(_ name: String) throws -> String {
        if let bytes = self.virtual[name] { return SHA256.hexDigest(bytes) }
        if let blob = self.blobs[name] { return blob.digest.hex }  // checked when pass 2 spools it
        return SHA256.hexDigest(try self.read(name, limit: ArchiveScan.metadataLimit))
    }

    func region(_ name: String) -> BlobRegion? { nil }
}

import Codec
import Foundation
import Glibc
import OCI
import Stores
import Transfer

/// A `.tar.zst` / `.tar.gz` read in place, never decompressed to disk as a whole.
///
/// With a frame index (Ferry's compressed bundles) members are listed by jumping from header to header, each a few
/// bytes into a frame, and a member is read by decoding from the frame that holds it. Without one (`docker save |
/// gzip`, `tar | zstd`) the archive is read in order: one pass lists the members and keeps the small ones (metadata,
/// manifests, configs), and each blob is read again from the start when it is needed. `hashing` makes the listing a
/// full pass that also hashes every member and checks every frame against the index (`ferry verify`).
struct CompressedTarArchive: RegionArchive {
    let file: CompressedTarFile
    let members: [String: TarMembers.Member]
    let problems: [String]
    /// Bytes of small members seen by a sequential pass.
    let contents: [String: [UInt8]]
    /// sha256 hex of every regular member, when the listing hashed.
    let digests: [String: String]

    var path: String { self.file.path }
    var description: String { self.file.path }
    var files: [String] { Array(self.members.keys) }

    init(path: String, hashing: Bool) throws {
        let file = try CompressedTarFile(path: path)
        self.file = file
        var contents: [String: [UInt8]] = [:]
        var digests: [String: String] = [:]
        let entries: [TarReader.Entry]
        if let index = file.index, !hashing {
            entries = try TarReader.entries(size: index.contentSize, path: path) { offset, count throws(StoreError) in
                do { return try file.read(at: offset, count: count) } catch let e as StoreError { throw e } catch {
                    throw StoreError(.corrupt, "\(path): \(error)")
                }
            }
        } else {
            var parser = TarStreamParser(path: path, hashing: hashing)
            try file.scan { try parser.feed($0) }
            try parser.finish()
            entries = parser.members.map(\.entry)
            for m in parser.members {
                guard let name = ArchivePath.normalized(m.entry.name) else { continue }
                if let c = m.content { contents[name] = c }
                if let d = m.sha256 { digests[name] = d }
            }
        }
        let listing = TarMembers(entries)
        self.members = listing.byName
        self.problems = listing.problems
        self.contents = contents
        self.digests = digests
    }

    func size(_ name: String) -> Int64? { self.members[name]?.size }

    func region(_ name: String) -> BlobRegion? { nil }

    func read(_ name: String, limit: Int) throws -> [UInt8] {
        guard let m = self.members[name] else { throw StoreError(.notFound, "\(self.path) has no \(name)") }
        guard m.size <= Int64(limit) else { throw StoreError(.unsafe, "\(self.path): \(name) is \(m.size) bytes, too large for metadata") }
        if let bytes = self.contents[m.source] { return bytes }
        return try self.file.read(at: m.offset, count: Int(m.size))
    }

    func sha256(_ name: String) throws -> String {
        guard let m = self.members[name] else { throw StoreError(.notFound, "\(self.path) has no \(name)") }
        if let d = self.digests[m.source] { return d }
        var hasher = SHA256()
        try self.file.read(from: m.offset, count: m.size) { hasher.update($0) }
        return hasher.hexDigest()
    }

    /// Decompresses one blob into a spool file, checks its digest, and hands it to `body` (one upload); the file is
    /// removed afterwards. Disk use is the blobs in flight; the archive is never decompressed whole.
    func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, spool: String, _ body: (BlobRegion) async throws -> T) async throws -> T {
        let name = "blobs/\(blob.digest.algorithm)/\(blob.digest.hex)"
        guard let m = self.members[name] else {
            throw MirrorError(.failed, "\(image): blob \(blob.digest) is not in \(self.description)")
        }
        guard m.size == blob.size else {
            throw MirrorError(.failed, "\(self.description) is damaged: \(blob.digest) of \(image) is \(m.size) bytes, its descriptor says \(blob.size); run ferry verify on it")
        }
        let path = "\(spool)/\(blob.digest.hex).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).unpacked"
        defer { unlink(path) }
        // Decoding a whole blob takes seconds to minutes, and the pusher lends up to --jobs at once: on the
        // cooperative pool (one thread per core) that would stall the uploads and the stall detection watching them.
        try await offPool { [self] in
            let member = StreamedArchive.Blob(member: m.offset, memberSize: m.size, digest: blob.digest, size: blob.size, compress: false)
            try SpoolWriter.spool(member, of: self.file, to: path)
        }
        // `SpoolWriter` checked its size and digest.
        return try await body(BlobRegion(path: path, offset: 0, size: blob.size, verified: true))
    }
}

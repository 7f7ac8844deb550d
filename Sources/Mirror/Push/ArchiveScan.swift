import Codec
import Foundation
import Glibc
import OCI
import Registry
import Stores
import Transfer

/// What the first pass over a compressed archive without a frame index (`docker save | gzip`, `tar | zstd`)
/// learns, in one forward read of the decompressed tar: every member header, the bytes of the small JSON members
/// (manifest.json, repositories, configs, index.json, manifests), and for each layer member outside `blobs/` (a
/// `docker save` `<id>/layer.tar`, skopeo's `<diffid>.tar`) the descriptor it is pushed as and its DiffID, as
/// `DockerArchive.analyze` finds them for a plain tar. Kept under `$XDG_STATE_HOME/ferry/archive-scans/`, keyed by
/// path, size and mtime, so a load run again after an interruption does not read the archive a first time again.
struct ArchiveScan: Codable, Sendable {
    /// A layer member as pass 1 found it.
    struct Layer: Codable, Sendable {
        /// The member is a plain tar: it is gzip-compressed (`DockerArchive.gzip`) to be pushed.
        var compress: Bool
        var mediaType: String
        /// Digest and size of the blob as pushed.
        var digest: String
        var size: Int64
        var diffID: String
    }

    /// Which file the scan is of; a different size or mtime makes it stale.
    struct Key: Codable, Sendable, Equatable {
        var path: String
        var size: Int64
        var mtime: Int64
    }

    static let currentVersion = 1
    static let gzipOptions = "level \(DockerArchive.gzip.level), blocks of \(DockerArchive.gzip.blockSize)"
    /// JSON members larger than this are not kept: no real manifest or config comes near it (hostile "huge JSON").
    static let metadataLimit = 16 << 20
    /// All kept members together.
    static let metadataBudget = 64 << 20

    var version = Self.currentVersion
    var key: Key
    /// The gzip options layer digests were found with: other options would give other digests.
    var gzip = Self.gzipOptions
    var entries: [TarReader.Entry] = []
    /// Kept members by data offset (as a string: JSON keys).
    var contents: [String: Data] = [:]
    /// Layer members by data offset.
    var layers: [String: Layer] = [:]
    /// Decompressed bytes the scan read (the tar's size).
    var contentSize: Int64 = 0

    /// Names a member that is certainly metadata, never a layer, so pass 1 does not compress it.
    static func isMetadataName(_ name: String) -> Bool {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        return last.hasSuffix("json") || last == "VERSION" || last == "repositories" || last == "oci-layout"
    }

    // MARK: Pass 1

    /// The scan of `file`: from the cache when it is of this very file, else one pass over it (blocking the
    /// calling thread: call it off Swift's cooperative pool), then cached.
    static func load(_ file: CompressedTarFile) throws -> ArchiveScan {
        let key = try Self.key(file.path)
        let cache = Self.cachePath(key)
        if let data = FileManager.default.contents(atPath: cache),
            let scan = try? JSONDecoder().decode(ArchiveScan.self, from: data), scan.version == Self.currentVersion, scan.key == key,
            scan.gzip == Self.gzipOptions
        {
            PassTrace.note("pass 1 of \(file.path) reused from \(cache)")
            return scan
        }
        let scan = try Self.read(file, key: key)
        scan.store(at: cache)
        return scan
    }

    /// Pass 1 proper: decodes the archive once, start to end.
    static func read(_ file: CompressedTarFile, key: Key) throws -> ArchiveScan {
        let visitor = ScanVisitor(path: file.path)
        let (entries, decoded) = try file.readForward(pass: 1, visitor: visitor)
        var scan = ArchiveScan(key: key)
        scan.entries = entries
        scan.contents = visitor.contents
        scan.layers = visitor.layers
        scan.contentSize = decoded
        return scan
    }

    static func key(_ path: String) throws -> Key {
        var st = stat()
        guard stat(path, &st) == 0 else { throw MirrorError(.failed, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        return Key(
            path: URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path, size: Int64(st.st_size),
            mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    static func cachePath(_ key: Key) -> String {
        let state = (UploadJournal.defaultDirectory() as NSString).deletingLastPathComponent
        return "\(state)/archive-scans/\(SHA256.hexDigest(Array(key.path.utf8)).prefix(32)).json"
    }

    /// Written to a temporary file and renamed: a cache is whole or absent. A cache that cannot be written only
    /// costs the next run a first pass.
    func store(at path: String) {
        guard let data = try? JSONEncoder().encode(self) else { return }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(path).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}

extension CompressedTarFile {
    /// Thrown by a visitor that has all it wants: the read ends there, as if the archive did.
    struct StopReading: Error {}

    /// One forward read of the tar inside (pass 1 or 2), each regular member handed to `visitor`, which keeps what
    /// it needs (the parser captures nothing); returns the members read and the bytes decompressed. Blocks.
    func readForward(pass: Int, visitor: any TarMemberVisitor) throws -> (entries: [TarReader.Entry], decoded: Int64) {
        var parser = TarStreamParser(path: self.path, hashing: false, captureLimit: 0, captureBudget: 0)
        parser.visitor = visitor
        var decoded: Int64 = 0
        do {
            do {
                try self.scan { piece in
                    decoded += Int64(piece.count)
                    try parser.feed(piece)
                }
                try parser.finish()
            } catch is StopReading {}
        } catch let e as StoreError {
            throw MirrorError(.failed, e.message)
        }
        PassTrace.note("pass \(pass) of \(self.path): decompressed \(decoded) bytes")
        return (parser.members.map(\.entry), decoded)
    }
}

/// Pass 1's work on each member as it streams by.
private final class ScanVisitor: TarMemberVisitor {
    let path: String
    var contents: [String: Data] = [:]
    var layers: [String: ArchiveScan.Layer] = [:]
    private var kept = 0
    private var entry: TarReader.Entry?
    private var capture: [UInt8]?
    private var started = false
    private var digester: LayerDigester?

    init(path: String) {
        self.path = path
    }

    func begin(_ entry: TarReader.Entry) throws -> Bool {
        self.entry = entry
        self.started = false
        self.capture = entry.size <= Int64(ArchiveScan.metadataLimit) ? [] : nil
        let name = ArchivePath.normalized(entry.name) ?? entry.name
        let layer = !name.hasPrefix("blobs/") && !ArchiveScan.isMetadataName(name) && entry.size > 0
        self.digester = layer ? LayerDigester() : nil
        return self.capture != nil || layer
    }

    func data(_ bytes: UnsafeRawBufferPointer) throws {
        if !self.started, let first = bytes.first {
            self.started = true
            // Metadata is JSON; anything else (a layer, whatever its name) is not kept.
            if first != UInt8(ascii: "{") && first != UInt8(ascii: "[") { self.capture = nil }
        }
        if self.capture != nil { self.capture!.append(contentsOf: bytes) }
        if let digester = self.digester {
            do { try digester.feed(bytes) } catch { throw self.layerError(error) }
        }
    }

    func end() throws {
        guard let entry = self.entry else { return }
        let key = String(entry.dataOffset)
        if let capture = self.capture, self.started {
            self.kept += capture.count
            guard self.kept <= ArchiveScan.metadataBudget else {
                throw MirrorError(.failed, "\(self.path) holds more than \(ArchiveScan.metadataBudget >> 20) MiB of JSON metadata; it is not an image archive ferry will read")
            }
            self.contents[key] = Data(capture)
        }
        if let digester = self.digester {
            do { self.layers[key] = try digester.finish() } catch { throw self.layerError(error) }
        }
        self.entry = nil
        self.capture = nil
        self.digester = nil
    }

    private func layerError(_ error: any Error) -> MirrorError {
        let name = self.entry?.name ?? "?"
        if let e = error as? CodecError { return MirrorError(.failed, "\(self.path): layer \(name) is damaged: \(e.message)") }
        return MirrorError(.failed, "\(self.path): layer \(name): \(error)")
    }
}

/// Digest, size and DiffID of one layer fed in pieces: a plain tar is gzip-compressed (the parallel encoder gives
/// the same bytes however its input is cut, so pass 2 gets the same digest), gzip and zstd layers are hashed as
/// they are and decompressed for the DiffID.
final class LayerDigester {
    private enum Mode {
        case undecided([UInt8])
        case plain(ParallelGzipEncoder)
        case compressed(any StreamDecoder, MediaType)
    }

    private var mode = Mode.undecided([])
    private var raw = SHA256()
    private var rawSize: Int64 = 0
    private var derived = SHA256()
    private var derivedSize: Int64 = 0

    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        self.raw.update(bytes)
        self.rawSize += Int64(bytes.count)
        if case .undecided(var head) = self.mode {
            head.append(contentsOf: bytes)
            guard head.count >= CompressionFormat.magicLength else {
                self.mode = .undecided(head)
                return
            }
            try self.decide(head)
            try head.withUnsafeBytes { try self.process($0) }
            return
        }
        try self.process(bytes)
    }

    func finish() throws -> ArchiveScan.Layer {
        if case .undecided(let head) = self.mode {
            try self.decide(head)
            try head.withUnsafeBytes { try self.process($0) }
        }
        switch self.mode {
        case .plain(let encoder):
            try encoder.finish { self.take($0.bytes) }
            return ArchiveScan.Layer(
                compress: true, mediaType: MediaType.dockerLayerGzip.rawValue, digest: "sha256:" + self.derived.hexDigest(),
                size: self.derivedSize, diffID: "sha256:" + self.raw.hexDigest())
        case .compressed(let decoder, let mediaType):
            try decoder.finish()
            return ArchiveScan.Layer(
                compress: false, mediaType: mediaType.rawValue, digest: "sha256:" + self.raw.hexDigest(), size: self.rawSize,
                diffID: "sha256:" + self.derived.hexDigest())
        case .undecided:
            preconditionFailure("decided above")
        }
    }

    private func decide(_ head: [UInt8]) throws {
        switch CompressionFormat.detect(head) {
        case .gzip: self.mode = .compressed(GzipDecoder(chunkSize: 256 << 10), .dockerLayerGzip)
        case .zstd: self.mode = .compressed(try ZstdDecoder(chunkSize: 256 << 10), .dockerLayerZstd)
        case nil: self.mode = .plain(try ParallelGzipEncoder(options: DockerArchive.gzip))
        }
    }

    private func process(_ bytes: UnsafeRawBufferPointer) throws {
        switch self.mode {
        case .plain(let encoder):
            try encoder.encode(bytes) { self.take($0.bytes) }
        case .compressed(let decoder, _):
            try decoder.decode(bytes) { self.take($0) }
        case .undecided:
            break
        }
    }

    private func take(_ bytes: [UInt8]) {
        self.derived.update(bytes)
        self.derivedSize += Int64(bytes.count)
    }
}

/// Says how often an archive is decompressed (`FERRY_DEBUG=passes`), so the "two passes at most" promise can be
/// checked from outside.
enum PassTrace {
    static let enabled = ProcessInfo.processInfo.environment["FERRY_DEBUG"]?.split(separator: ",").contains("passes") ?? false

    static func note(_ message: String) {
        guard Self.enabled else { return }
        FileHandle.standardError.write(Data("ferry: debug: \(message)\n".utf8))
    }
}

import Codec
import Foundation
import Glibc
import OCI
import Stores
import Transfer

/// Rewrites the layers of an image into another compression (`--dest-compress`) before they are sent.
///
/// Each layer is read once, through one pipeline pass: decompressed (any of gzip, zstd or none, by its magic), its
/// compressed input hashed against its digest, its content hashed against the config's DiffID (which therefore does
/// not change, nor does the config), compressed, and the output hashed for the new descriptor. Recoded layers wait
/// in `directory`, named by their new digest, until the destination takes them; a memo beside them maps each source
/// layer to its recoded digest, so a rerun finds the work already done.
struct LayerRecoder: Sendable {
    let compression: LayerCompression
    let source: any PushSource
    /// Where recoded layers are written; on the destination's filesystem when they are moved into a layout.
    let directory: String
    let progress: ProgressHandler?
    /// Sync each recoded layer before its rename. Off when the destination accounts for unsynced files itself (a
    /// layout's unsynced list) or only reads them once more (a push); a reused file is re-hashed either way.
    var syncs = true

    /// What recoding an image produced.
    struct Outcome: Sendable {
        /// The image with its new manifests (the top one's digest is the copy's new digest).
        var plan: ImagePlan
        /// New layer digest → its file in `directory`.
        var files: [Digest: String]
        /// How many layers were rewritten, and their total size before and after.
        var layers = 0
        var bytesBefore: Int64 = 0
        var bytesAfter: Int64 = 0
    }

    /// Recodes every layer of `plan` not already in the target compression, `jobs` at a time (each pass keeps
    /// about a core busy, so more than the cores only helps while blobs are still arriving).
    /// - Parameter present: whether a recoded layer already is where it goes (a layout that holds it): then it is
    ///   not produced again.
    func recode(_ plan: ImagePlan, jobs: Int, present: @escaping @Sendable (Digest, Int64) -> Bool = { _, _ in false }) async throws -> Outcome {
        let diffIDs = try await self.diffIDs(plan)
        var seen = Set<Digest>()
        let layers = plan.manifests.flatMap { stored -> [Descriptor] in
            guard case .image(let manifest)? = try? stored.raw.parse() else { return [] }
            return manifest.layers.filter { self.compression.rewrites($0.mediaType) && seen.insert($0.digest).inserted }
        }
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)

        // Layers recoded side by side keep the cores busy by themselves: each zstd stream then compresses on its own
        // stage, without handing its input to libzstd's workers (3 % less CPU, 8 layers of 128 MiB on 2 cores). Not
        // when one layer outweighs all the others together: it would be left to compress on one core at the end.
        let largest = layers.map(\.size).max() ?? 0
        let balanced = jobs > 1 && layers.reduce(0) { $0 + $1.size } - largest >= largest
        let encoding = self.compression.encoding(zstdWorkers: balanced ? 0 : nil)
        var replaced: [Digest: Descriptor] = [:]
        var outcome = Outcome(plan: plan, files: [:])
        try await forEachConcurrently(layers.sorted { $0.size > $1.size }, jobs: jobs) { layer -> (Descriptor, Descriptor, String?) in
            if let done = self.memo(layer) {
                let held = self.holds(done)
                if held || present(done.digest, done.size) {
                    self.progress?(ProgressEvent(id: layer.digest.description, kind: .skipped(total: layer.size)))
                    return (layer, done, held ? self.path(done.digest) : nil)
                }
            }
            let new = try await self.recode(layer, of: plan.source, diffID: diffIDs[layer.digest], encoding: encoding)
            return (layer, new, self.path(new.digest))
        } collect: { old, new, file in
            replaced[old.digest] = new
            if let file { outcome.files[new.digest] = file }
            outcome.layers += 1
            outcome.bytesBefore += old.size
            outcome.bytesAfter += new.size
        }
        outcome.plan = try PlanRewrite.rewrite(plan, layers: replaced, compression: self.compression)
        return outcome
    }

    /// One layer: lent by the source (a spooled download, a layout file, a bundle member), recoded into a partial
    /// file, checked, then renamed to its new digest.
    private func recode(_ layer: Descriptor, of image: Reference, diffID: Digest?, encoding: Pipeline.Encoding) async throws -> Descriptor {
        // Unique per run: two copies recoding the same base layer at once must not write into one file.
        let partial = "\(self.directory)/\(layer.digest.hex).\(self.tag).\(getpid())-\(UInt32.random(in: 0 ... .max)).partial"
        let result: PipelineResult = try await self.source.lend(layer, of: image) { region in
            // A download's bytes were hashed as they arrived; hashing them again would cost a core-second per 2 GB.
            let pipeline = Pipeline(decoding: .detect, encoding: encoding, hashes: region.verified ? [.content, .output] : .all)
            self.progress?(ProgressEvent(id: layer.digest.description, kind: .started(total: region.size)))
            let input = ReportingSource(
                base: try FileSource(region: region),
                id: layer.digest.description, progress: self.progress)
            do {
                // Synced before the rename: a recoded layer is renamed into a layout's blobs/ and named in a memo, and
                // after a power loss neither may point at bytes that never reached the disk.
                return try await pipeline.run(from: input, to: try FileSink(path: partial, sync: self.syncs))
            } catch let error as CodecError {
                unlink(partial)
                throw MirrorError(.failed, "\(image): layer \(layer.digest) cannot be recompressed: \(error.message)")
            } catch {
                unlink(partial)
                throw error
            }
        }
        guard (result.input.sha256 ?? layer.digest.hex) == layer.digest.hex, result.input.size == layer.size else {
            unlink(partial)
            throw MirrorError(.failed, "\(image): layer \(layer.digest) read as \(result.input.digest ?? "?") (\(result.input.size) bytes): the source is damaged")
        }
        if let diffID, result.content.sha256 != diffID.hex {
            unlink(partial)
            throw MirrorError(.failed, "\(image): layer \(layer.digest) uncompresses to \(result.content.digest ?? "?"), but the config's DiffID is \(diffID): the image is inconsistent, so it is not rewritten")
        }
        let digest = try Digest(sha256Hex: result.output.sha256!)
        guard rename(partial, self.path(digest)) == 0 else {
            throw MirrorError(.failed, "cannot move \(partial) to \(self.path(digest)): \(String(cString: strerror(errno)))")
        }
        let new = Descriptor(mediaType: self.compression.layerType(oci: true), digest: digest, size: result.output.size)
        try? JSONEncoder().encode(new).write(to: URL(fileURLWithPath: self.memoPath(layer.digest)), options: .atomic)
        self.progress?(ProgressEvent(id: layer.digest.description, kind: .finished))
        return new
    }

    /// Each layer's DiffID from its image's config, where the config is an image config with one per layer.
    private func diffIDs(_ plan: ImagePlan) async throws -> [Digest: Digest] {
        var out: [Digest: Digest] = [:]
        for stored in plan.manifests {
            guard case .image(let manifest)? = try? stored.raw.parse(), manifest.config.mediaType.isConfig,
                manifest.layers.contains(where: { self.compression.rewrites($0.mediaType) })
            else { continue }
            let bytes = try await self.source.lend(manifest.config, of: plan.source) { region in
                try Self.read(region, limit: 16 << 20)
            }
            guard let ids = try? DockerArchive.diffIDs(bytes), ids.count == manifest.layers.count else {
                throw MirrorError(.failed, "\(plan.source): config \(manifest.config.digest) does not list one DiffID per layer, so a recompressed layer could not be checked against it")
            }
            for (layer, id) in zip(manifest.layers, ids) {
                out[layer.digest] = id
            }
        }
        return out
    }

    private var tag: String {
        switch self.compression {
        case .gzip(let level): "gzip-\(level)"
        case .zstd(let level): "zstd-\(level)"
        }
    }

    func path(_ digest: Digest) -> String { "\(self.directory)/\(digest.hex)" }
    private func memoPath(_ layer: Digest) -> String { "\(self.directory)/\(layer.hex).\(self.tag).json" }

    private func memo(_ layer: Descriptor) -> Descriptor? {
        guard let data = FileManager.default.contents(atPath: self.memoPath(layer.digest)) else { return nil }
        return try? JSONDecoder().decode(Descriptor.self, from: data)
    }

    /// A recoded file from an earlier run counts only once it hashes to its digest again (it may not have been synced).
    private func holds(_ descriptor: Descriptor) -> Bool {
        fileHolds(self.path(descriptor.digest), digest: descriptor.digest, size: descriptor.size)
    }

    static func read(_ region: BlobRegion, limit: Int) throws -> [UInt8] {
        guard region.size <= Int64(limit) else { throw MirrorError(.failed, "\(region.path): \(region.size) bytes is too large for a config") }
        let fd = open(region.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot open \(region.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do { return try TarReader.read(fd, at: region.offset, count: Int(region.size), path: region.path) } catch {
            throw MirrorError(.failed, error.message)
        }
    }
}

/// A source that reports how far the pipeline has read, as transfers report bytes.
struct ReportingSource<Base: ByteSource>: ByteSource {
    var base: Base
    let id: String
    let progress: ProgressHandler?

    mutating func next() throws -> Chunk? {
        let chunk = try self.base.next()
        if let chunk, !chunk.bytes.isEmpty { self.progress?(ProgressEvent(id: self.id, kind: .bytes(Int64(chunk.bytes.count)))) }
        return chunk
    }

    func interrupt(with error: any Error) { self.base.interrupt(with: error) }
}

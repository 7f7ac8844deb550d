import Codec
import Foundation
import Glibc
import OCI
import Registry
import Stores
import Transfer

/// `save -o BUNDLE.tar.zst|.tar.gz`: the planned tar's stream, compressed as independent frames with a trailing
/// frame index (DESIGN §3, docs/bundle-format.md).
///
/// Blobs download in parallel (segmented, journaled) into a staging area beside the bundle, in plan order and at
/// most `--jobs` ahead of the writer, so staging holds the blobs in flight, not the bundle. One writer walks the plan
/// and feeds the tar's bytes through the pipeline's encoder; a frame ends at every member and every
/// `frameContent` bytes inside one, so a reader can seek and a killed save continues after its last durable frame.
extension Saver {
    /// Uncompressed bytes per frame inside a large member: seek granularity against ~20 bytes of overhead a frame.
    static let frameContent: Int64 = 4 << 20

    /// What `-o` asks for, by its name.
    static func compression(of output: String) -> CompressionFormat? {
        if output.hasSuffix(".tar.zst") || output.hasSuffix(".tzst") { return .zstd }
        if output.hasSuffix(".tar.gz") || output.hasSuffix(".tgz") { return .gzip }
        return nil
    }

    /// Levels chosen by measurement (docs/bundle-format.md): layers are already compressed, so only a fast level pays.
    static func encoding(_ format: CompressionFormat, level: Int?) -> Pipeline.Encoding {
        switch format {
        case .zstd: .zstd(ZstdOptions(level: level ?? 3))
        case .gzip: .gzip(GzipOptions(level: level ?? 1))
        }
    }

    /// The levels each format has; anything else, or a level for a plain `.tar`, is a usage error before anything
    /// is fetched (the encoders would otherwise clamp or ignore it silently).
    static func checkLevel(_ level: Int, for format: CompressionFormat?, output: String) throws {
        guard let format else {
            throw MirrorError(.usage, "--compress-level applies to BUNDLE.tar.zst and BUNDLE.tar.gz; \(output) is not compressed")
        }
        let range = format == .zstd ? 1...19 : 1...9
        guard range.contains(level) else {
            throw MirrorError(.usage, "--compress-level \(level): \(format == .zstd ? "zstd" : "gzip") levels are \(range.lowerBound) to \(range.upperBound)")
        }
    }

    struct CompressedOutcome {
        var fetched = 0
        var skipped = 0
        var bytes: Int64 = 0
        var size: Int64 = 0
    }

    func saveCompressed(
        _ plan: BundlePlan, sources: [Digest: (RegistryClient, String)], to output: String, format: CompressionFormat,
        level: Int?, options: CopyOptions
    ) async throws -> CompressedOutcome {
        let state = CompressedBundleState(output: output)
        let encoding = Self.encoding(format, level: level)
        let frames = try state.prepare(plan, format: format)
        let resume = frames.last?.contentOffset ?? 0

        // Blobs whose data is all in durable frames are done; staged ones from an earlier run count once they hash
        // right again; the rest are fetched, in plan order. Hashing staged blobs reads whole files: off the pool.
        var outcome = CompressedOutcome()
        var candidates: [(BundlePlan.Member, RegistryClient, String)] = []
        for member in plan.members where member.content == nil {
            guard let digest = member.digest, let (client, repo) = sources[digest] else { continue }
            if member.dataOffset + member.header.size <= resume {
                outcome.skipped += 1
                options.progress?(ProgressEvent(id: digest.description, kind: .skipped(total: member.header.size)))
            } else {
                candidates.append((member, client, repo))
            }
        }
        let checks = candidates.map { (state.stagedPath($0.0.digest!.hex), $0.0.digest!, $0.0.header.size) }
        let verified = try await offPool { checks.map { fileHolds($0.0, digest: $0.1, size: $0.2) } }
        var staged = Set<Digest>()
        var queue: [FetchAhead.Item] = []
        for (candidate, ok) in zip(candidates, verified) {
            let member = candidate.0
            if ok {
                staged.insert(member.digest!)
                outcome.skipped += 1
                options.progress?(ProgressEvent(id: member.digest!.description, kind: .skipped(total: member.header.size)))
            } else {
                unlink(state.stagedPath(member.digest!.hex))
                queue.append((member, candidate.1, candidate.2))
            }
        }
        outcome.fetched = queue.count

        if resume < plan.archiveSize {
            let (staged, queue) = (staged, queue)
            let log = FrameLog()
            let sink = try FrameLogSink(state: state, log: log, after: frames)
            let channel = ByteChannel(capacity: 8)
            let pipeline = Pipeline(decoding: .none, encoding: encoding, hashes: [])
            let fetched = try await withThrowingTaskGroup(of: Int64.self) { group in
                group.addTask {
                    _ = try await pipeline.run(from: channel, to: sink)
                    return 0
                }
                group.addTask {
                    do {
                        var producer = TarProducer(plan: plan, channel: channel, position: resume)
                        let bytes = try await self.produce(&producer, log: log, state: state, staged: staged, queue: queue, options: options)
                        channel.finish()
                        return bytes
                    } catch {
                        channel.fail(error)
                        throw error
                    }
                }
                var total: Int64 = 0
                for try await bytes in group { total += bytes }
                return total
            }
            outcome.bytes = fetched
        }

        let index = FrameIndex(ends: CompressedBundleState.readFrames(state.framesPath))
        guard index.contentSize == plan.archiveSize else {
            throw MirrorError(.failed, "internal: the frames written cover \(index.contentSize) of \(plan.archiveSize) tar bytes; run the same command again")
        }
        outcome.size = try state.finish(index: index, format: format)
        return outcome
    }

    /// Walks the plan, downloading ahead and sending every byte of the tar from `producer.position` on. When the
    /// save is cancelled (Ctrl-C, or the pipeline failed and its task group cancels this task) the downloads in
    /// flight are cancelled too, and waited for: none outlives the save or blocks the writer meanwhile.
    private func produce(
        _ producer: inout TarProducer, log: FrameLog, state: CompressedBundleState, staged: Set<Digest>,
        queue: [FetchAhead.Item], options: CopyOptions
    ) async throws -> Int64 {
        let ahead = FetchAhead(queue, jobs: options.jobs) { item in
            try await self.stage(item.member, client: item.client, repository: item.repository, state: state, options: options)
        }
        var fetched: Int64 = 0
        do {
            try await withTaskCancellationHandler {
                for member in producer.plan.members where member.dataOffset + member.header.paddedSize > producer.position {
                    try await producer.send(member.header.encode(), at: member.offset, endsMember: false)
                    if let content = member.content {
                        try await producer.send(content, at: member.dataOffset, endsMember: false)
                    } else if let digest = member.digest {
                        if !staged.contains(digest) { fetched += try await ahead.take(digest) }
                        let path = state.stagedPath(digest.hex)
                        try await producer.sendFile(path, at: member.dataOffset, size: member.header.size)
                        log.written(path, endingAt: member.dataOffset + member.header.size)
                    }
                    let pad = Int(member.header.paddedSize - member.header.size)
                    try await producer.send([UInt8](repeating: 0, count: pad), at: member.dataOffset + member.header.size, endsMember: true)
                }
                try await producer.send([UInt8](repeating: 0, count: 1024), at: producer.plan.size, endsMember: true)
            } onCancel: {
                ahead.cancel()
            }
        } catch {
            await ahead.stop()
            throw error
        }
        return fetched
    }

    /// Fetches one blob into the staging area; it is renamed to `<hex>.blob` only once verified. Never synced: it is
    /// deleted once its frames are durable, and a resumed save hashes a staged blob again before using it.
    private func stage(_ member: BundlePlan.Member, client: RegistryClient, repository: String, state: CompressedBundleState, options: CopyOptions) async throws -> Int64 {
        let digest = member.digest!
        let partial = state.stagingPath(digest.hex)
        let fetched = try await BlobFetch(client: client, repository: repository, digest: digest, size: member.header.size)
            .run(into: partial, options: options, durability: .transient)
        guard rename(partial, state.stagedPath(digest.hex)) == 0 else {
            throw MirrorError(.failed, "cannot move \(partial) into place: \(String(cString: strerror(errno)))")
        }
        return fetched
    }
}

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
        _ = try encoding.makeEncoder()  // a bad --compress-level fails here, before anything is fetched
        let frames = try state.prepare(plan, format: format)
        let resume = frames.last?.contentOffset ?? 0

        // Blobs whose data is all in durable frames are done; staged ones from an earlier run count once they hash
        // right again; the rest are fetched, in plan order.
        var outcome = CompressedOutcome()
        var staged = Set<Digest>()
        var queue: [(BundlePlan.Member, RegistryClient, String)] = []
        for member in plan.members where member.content == nil {
            guard let digest = member.digest, let (client, repo) = sources[digest] else { continue }
            let path = state.stagedPath(digest.hex)
            if member.dataOffset + member.header.size <= resume {
                outcome.skipped += 1
                options.progress?(ProgressEvent(id: digest.description, kind: .skipped(total: member.header.size)))
            } else if RegistryBlobSource.holdsVerified(path, Descriptor(mediaType: .ociLayer, digest: digest, size: member.header.size)) {
                staged.insert(digest)
                outcome.skipped += 1
                options.progress?(ProgressEvent(id: digest.description, kind: .skipped(total: member.header.size)))
            } else {
                unlink(path)
                queue.append((member, client, repo))
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
                        var producer = TarProducer(plan: plan, channel: channel, log: log, position: resume)
                        let bytes = try await self.produce(&producer, state: state, staged: staged, queue: queue, options: options)
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
        try state.finish(index: index, format: format)
        outcome.size = CompressedBundleState.fileSize(output) ?? 0
        return outcome
    }

    /// Walks the plan, downloading ahead and sending every byte of the tar from `producer.position` on.
    private func produce(
        _ producer: inout TarProducer, state: CompressedBundleState, staged: Set<Digest>,
        queue: [(BundlePlan.Member, RegistryClient, String)], options: CopyOptions
    ) async throws -> Int64 {
        var waiting = queue[...]
        var inFlight: [(Digest, Task<Int64, any Error>)] = []
        var fetched: Int64 = 0
        func topUp() {
            while inFlight.count < options.jobs, let (member, client, repo) = waiting.popFirst() {
                let task = Task { try await self.stage(member, client: client, repository: repo, state: state, options: options) }
                inFlight.append((member.digest!, task))
            }
        }
        do {
            topUp()
            for member in producer.plan.members where member.dataOffset + member.header.paddedSize > producer.position {
                try await producer.send(member.header.encode(), at: member.offset, endsMember: false)
                if let content = member.content {
                    try await producer.send(content, at: member.dataOffset, endsMember: false)
                } else if let digest = member.digest {
                    if !staged.contains(digest) {
                        guard let first = inFlight.first, first.0 == digest else {
                            throw MirrorError(.failed, "internal: blob \(digest) is neither staged nor being fetched")
                        }
                        inFlight.removeFirst()
                        fetched += try await first.1.value
                        topUp()
                    }
                    let path = state.stagedPath(digest.hex)
                    try await producer.sendFile(path, at: member.dataOffset, size: member.header.size)
                    producer.log.written(path, endingAt: member.dataOffset + member.header.size)
                }
                let pad = Int(member.header.paddedSize - member.header.size)
                try await producer.send([UInt8](repeating: 0, count: pad), at: member.dataOffset + member.header.size, endsMember: true)
            }
            try await producer.send([UInt8](repeating: 0, count: 1024), at: producer.plan.size, endsMember: true)
        } catch {
            for (_, task) in inFlight { task.cancel() }
            for (_, task) in inFlight { _ = await task.result }
            throw error
        }
        return fetched
    }

    /// Fetches one blob into the staging area; it is renamed to `<hex>.blob` only once verified.
    private func stage(_ member: BundlePlan.Member, client: RegistryClient, repository: String, state: CompressedBundleState, options: CopyOptions) async throws -> Int64 {
        let digest = member.digest!
        let partial = state.stagingPath(digest.hex)
        let download = SegmentedDownload(
            id: digest.description, expectedSHA256: digest.hex, size: member.header.size, path: partial,
            options: options.download, progress: options.progress, classify: RegistryError.retryAdvice)
        let locator = BlobLocator(client: client, repository: repository, digest: digest)
        let outcome: SegmentedDownload.Outcome
        do {
            outcome = try await download.run { range in try await locator.fetch(range) }
        } catch let e as TransferError {
            throw MirrorError(.failed, "\(client.registry)/\(repository): \(e.message)")
        }
        guard rename(partial, state.stagedPath(digest.hex)) == 0 else {
            throw MirrorError(.failed, "cannot move \(partial) into place: \(String(cString: strerror(errno)))")
        }
        return outcome.fetchedBytes
    }
}

/// Sends the tar's bytes into the encoder's channel from content offset `position` on (bytes before it are already
/// in durable frames), marking where frames end: at every member's end and every `Saver.frameContent` bytes.
struct TarProducer {
    let plan: BundlePlan
    let channel: ByteChannel
    let log: FrameLog
    /// The next content byte to send.
    var position: Int64
    private var sinceFrameEnd: Int64 = 0

    init(plan: BundlePlan, channel: ByteChannel, log: FrameLog, position: Int64) {
        self.plan = plan
        self.channel = channel
        self.log = log
        self.position = position
    }

    /// `bytes` are the tar's bytes at content offset `offset`.
    mutating func send(_ bytes: [UInt8], at offset: Int64, endsMember: Bool) async throws {
        let skip = Int(max(0, min(Int64(bytes.count), self.position - offset)))
        var rest = bytes[skip...]
        while !rest.isEmpty {
            let take = Int(min(Int64(rest.count), Saver.frameContent - self.sinceFrameEnd))
            let piece = Array(rest.prefix(take))
            rest = rest.dropFirst(take)
            try await self.emit(piece, endsFrame: self.sinceFrameEnd + Int64(take) >= Saver.frameContent || (rest.isEmpty && endsMember))
        }
        if bytes.count == skip && endsMember && self.sinceFrameEnd > 0 && offset + Int64(bytes.count) >= self.position {
            try await self.emit([], endsFrame: true)
        }
    }

    /// The staged blob at `path`, as member data at content offset `offset`.
    mutating func sendFile(_ path: String, at offset: Int64, size: Int64) async throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot open staged blob \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var done = max(0, min(size, self.position - offset))
        while done < size {
            let want = Int(min(size - done, 1 << 20, Saver.frameContent - self.sinceFrameEnd))
            var buffer = [UInt8](repeating: 0, count: want)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(done)) }
            guard n > 0 else { throw MirrorError(.failed, "staged blob \(path) is shorter than \(size) bytes; run the same command again") }
            if n < want { buffer.removeLast(want - n) }
            try await self.emit(buffer, endsFrame: self.sinceFrameEnd + Int64(n) >= Saver.frameContent)
            done += Int64(n)
        }
    }

    private mutating func emit(_ bytes: [UInt8], endsFrame: Bool) async throws {
        self.position += Int64(bytes.count)
        self.sinceFrameEnd += Int64(bytes.count)
        if endsFrame {
            self.log.requested(self.position)
            self.sinceFrameEnd = 0
        }
        try await self.channel.send(bytes, endsFrame: endsFrame)
    }
}

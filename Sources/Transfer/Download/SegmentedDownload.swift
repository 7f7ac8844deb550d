import CFile
import Codec
import Foundation
import Glibc
import Synchronization

/// Fetches one blob into a partial file with parallel `Range` segments, journaled so that the same download
/// started again continues at the chunk, and hashed as the contiguous prefix grows.
///
/// On success the file at `path` holds exactly the blob, verified and synced, and the journal is gone; the caller
/// renames the file into its final place. On failure or cancellation the partial file and journal stay (synced),
/// except after a digest mismatch, which deletes them: their content cannot be trusted.
public struct SegmentedDownload: Sendable {
    /// Requests `range` of the blob (always a Range request); the answer is 206, or 200 from a server ignoring Range.
    public typealias Fetch = @Sendable (ClosedRange<Int64>) async throws -> (Response, ResponseBody)

    public var id: String
    public var expectedSHA256: String
    public var size: Int64
    public var path: String
    public var options: DownloadOptions
    public var progress: ProgressHandler?
    /// Which failures of `fetch` deserve another attempt (beyond network errors, which always do).
    public var classify: @Sendable (any Error) -> RetryAdvice

    public init(
        id: String, expectedSHA256: String, size: Int64, path: String, options: DownloadOptions = DownloadOptions(),
        progress: ProgressHandler? = nil, classify: @escaping @Sendable (any Error) -> RetryAdvice = { _ in .fail }
    ) {
        self.id = id
        self.expectedSHA256 = expectedSHA256
        self.size = size
        self.path = path
        self.options = options
        self.progress = progress
        self.classify = classify
    }

    /// Set when the blob is one extent of a larger file (a planned bundle): bytes go to `baseOffset + position`, the
    /// file is neither created nor truncated here, and its journal lives where the caller says.
    public struct Extent: Sendable {
        public var baseOffset: Int64
        public var fileSize: Int64
        public var journalPath: String

        public init(baseOffset: Int64, fileSize: Int64, journalPath: String) {
            self.baseOffset = baseOffset
            self.fileSize = fileSize
            self.journalPath = journalPath
        }
    }

    public var extent: Extent?
    /// `false` when the caller makes many finished files durable at once (one sync per job instead of one per blob,
    /// which costs a fifth of a loopback copy); the caller must then not trust the file across a power loss until it
    /// has synced it.
    public var syncsOnFinish = true
    /// `false` for a transient file nobody will sync (a spool read once and deleted): its pages need never reach the
    /// disk. Otherwise written bytes go out while the download runs, so the final sync has little left to do.
    public var startsWriteback = true

    public var journalPath: String { self.extent?.journalPath ?? self.path + ".journal" }
    private var base: Int64 { self.extent?.baseOffset ?? 0 }

    /// What a run did, for summaries and tests.
    public struct Outcome: Sendable {
        /// Bytes already on disk from an earlier run, not fetched again.
        public var resumedBytes: Int64
        public var fetchedBytes: Int64
        public var retries: Int
    }

    @discardableResult
    public func run(_ fetch: @escaping Fetch) async throws -> Outcome {
        self.progress?(ProgressEvent(id: self.id, kind: .started(total: self.size)))
        // The two fallbacks may both happen, in either order: each at most once.
        var singleStream = false
        var retriedFromZero = false
        while true {
            do {
                let outcome = try await self.attempt(fetch, singleStream: singleStream)
                self.progress?(ProgressEvent(id: self.id, kind: .finished))
                return outcome
            } catch let e as TransferError where e.code == .digestMismatch && !retriedFromZero {
                // Unsynced chunks after a power loss, or a bad server: start once more from nothing.
                retriedFromZero = true
                self.progress?(ProgressEvent(id: self.id, kind: .retried(attempt: 1, reason: e.message)))
            } catch is RangeIgnored where !singleStream {
                singleStream = true
            }
        }
    }

    private func attempt(_ fetch: @escaping Fetch, singleStream: Bool) async throws -> Outcome {
        let plan = ChunkPlan(size: self.size, chunkSize: self.options.chunkSize)
        let journal = try Journal(
            path: self.journalPath, plan: plan, digest: "sha256:" + self.expectedSHA256, dataPath: self.path,
            dataSize: self.extent?.fileSize)
        let resuming = Journal.fileSize(self.path) == (self.extent?.fileSize ?? self.size)
        let fd = open(self.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TransferError(.io, "cannot open \(self.path): \(errnoString())") }
        defer { close(fd) }
        if self.extent == nil && !resuming { try preallocate(fd, self.size, path: self.path) }

        let done = (0..<plan.count).map { journal.isDone($0) }
        // Split by rate: the first connection takes everything, extra ones split what is slow.
        let shares = singleStream || self.options.splitThreshold > 0 ? 1 : self.options.connections
        let state = DownloadState(scheduler: SegmentScheduler(plan: plan, done: done, connections: shares), journal: journal)
        let resumed = done.enumerated().reduce(Int64(0)) { $0 + ($1.element ? Int64(plan.range(of: $1.offset).count) : 0) }

        let digest: String
        do {
            // A bundle's blobs are written directly (see `DirectWriter`); a file of its own goes through the page
            // cache, where the hasher and the next reader find it.
            let file = DownloadFile.open(fd, path: self.path, direct: self.extent != nil)
            defer { file.close() }
            digest = try await self.transfer(fetch, file: file, state: state, singleStream: singleStream)
        } catch {
            // Teardown that cancellation must not skip: what was written stays resumable, even across a power loss.
            if self.extent == nil {
                _ = fdatasync(fd)
                journal.sync()
            }
            throw error
        }
        guard digest == self.expectedSHA256 else {
            journal.remove()
            if self.extent == nil { unlink(self.path) }
            throw TransferError(.digestMismatch, "blob \(self.id): downloaded content has digest sha256:\(digest), expected sha256:\(self.expectedSHA256)")
        }
        // A shared file (a bundle) is synced by its owner, once for many blobs: fdatasync here would flush every
        // other blob's dirty pages too, again and again.
        if self.extent == nil && self.syncsOnFinish {
            guard fdatasync(fd) == 0 else { throw TransferError(.io, "cannot sync \(self.path): \(errnoString())") }
        }
        journal.remove()
        let stats = state.stats()
        return Outcome(resumedBytes: resumed, fetchedBytes: stats.fetched, retries: stats.retries)
    }

    /// Runs the connections, the hasher and the stall watchdog; returns the sha256 hex of the whole file.
    private func transfer(_ fetch: @escaping Fetch, file: DownloadFile, state: DownloadState, singleStream: Bool) async throws -> String {
        let gate = Gate()
        if state.isComplete || singleStream { gate.decide(!singleStream && !state.isComplete) }
        enum Finished: Sendable { case digest(String), worker, watchdog }
        // More connections than chunks left would only wait for work that cannot come.
        let connections = singleStream ? 1 : max(1, min(self.options.connections, state.pendingChunks))
        return try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask { .digest(try await self.hash(fd: file.fd, state: state)) }
            group.addTask {
                await self.watchdog(state)
                return .watchdog
            }
            for connection in 0..<connections {
                group.addTask {
                    if connection > 0, await !gate.wait() { return .worker }
                    try await self.worker(fetch, file: file, state: state, gate: connection == 0 ? gate : nil, extra: connection > 0, singleStream: singleStream)
                    return .worker
                }
            }
            var workersLeft = connections
            while let finished = try await group.next() {
                switch finished {
                case .digest(let d):
                    group.cancelAll()
                    return d
                case .worker:
                    workersLeft -= 1
                    if workersLeft == 0 && !state.isComplete {
                        throw TransferError(.other, "blob \(self.id): every connection stopped before the blob was complete")
                    }
                case .watchdog:
                    break
                }
            }
            throw CancellationError()
        }
    }

    /// One connection: claims segments until none are left, retrying its segment with backoff. An `extra`
    /// connection waits for a segment worth splitting (`DownloadOptions.splitThreshold`).
    private func worker(_ fetch: @escaping Fetch, file: DownloadFile, state: DownloadState, gate: Gate?, extra: Bool, singleStream: Bool) async throws {
        var gate = gate
        defer { gate?.decide(true) }
        while let segment = try await self.claim(state, extra: extra) {
            defer { self.options.budget?.giveBack() }
            var failures = 0
            while true {
                try Task.checkCancellation()
                guard let current = state.segment(segment.id), !current.isDone else { break }
                let before = current.position
                do {
                    try await self.fetchSegment(segment.id, from: segment.position, fetch, file: file, state: state, gate: &gate, singleStream: singleStream)
                    continue
                } catch is CancellationError where state.takeStalled(segment.id) {
                    if try self.shouldRetry(TransferError(.timeout, "blob \(self.id): no data for \(Int(self.options.stallTimeout)) s"), failures: &failures, progressed: state.position(segment.id) > before, state: state) == nil {
                        continue
                    }
                } catch let e as RangeIgnored {
                    state.release(segment.id)
                    throw e
                } catch {
                    if Task.isCancelled { throw error }
                    if let pause = try self.shouldRetry(error, failures: &failures, progressed: state.position(segment.id) > before, state: state) {
                        try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
                    }
                }
            }
            state.release(segment.id)
        }
    }

    /// The next segment for a connection, which counts in the budget while it works on it. A blob's first
    /// connection, and all of them when they start at once, always get theirs.
    private func claim(_ state: DownloadState, extra: Bool) async throws -> SegmentScheduler.Segment? {
        let threshold = self.options.splitThreshold
        let budget = self.options.budget
        guard extra && threshold > 0 else {
            let segment = state.claim()
            if segment != nil { budget?.take() }
            return segment
        }
        while true {
            if budget?.takeIfFree() ?? true {
                switch state.claimExtra(threshold: threshold) {
                case .segment(let segment): return segment
                case .finished:
                    budget?.giveBack()
                    return nil
                case .wait: budget?.giveBack()
                }
            } else if state.isComplete {
                return nil
            }
            try await Task.sleep(for: DownloadState.rateWindow / 2)
        }
    }

    /// Counts a failure and decides: the pause before the next attempt (nil: at once), or rethrow.
    private func shouldRetry(_ error: any Error, failures: inout Int, progressed: Bool, state: DownloadState) throws -> Double? {
        if progressed { failures = 0 }
        guard case .retry(let after) = RetryAdvice.advise(error, classify: self.classify) else { throw error }
        failures += 1
        guard failures < self.options.attempts else { throw error }
        state.countRetry()
        self.progress?(ProgressEvent(id: self.id, kind: .retried(attempt: failures, reason: "\(error)")))
        return after ?? (error is TransferError && (error as! TransferError).code == .timeout ? nil : backoff(attempt: failures))
    }

    /// One Range request for the rest of a segment, written at its offsets as it streams.
    /// `start` is where the segment began.
    private func fetchSegment(_ id: Int, from start: Int64, _ fetch: @escaping Fetch, file: DownloadFile, state: DownloadState, gate: inout Gate?, singleStream: Bool) async throws {
        guard var position = state.segment(id)?.position, let end = state.segment(id)?.end else { return }
        // Requests cover a few chunks at a time, so an idle connection can take over the rest of a segment at a
        // request boundary instead of cutting a request whose bytes are already on the wire. Split by rate, a
        // segment's requests start at one chunk and double (a slow link is split early), and once its rate says
        // nobody would split it, the next request runs to its end (each request costs the registry a lookup).
        let chunkSize = self.options.chunkSize
        var span = max(Self.chunksPerRequest, (Self.minimumRequest + chunkSize - 1) / chunkSize) * chunkSize
        let threshold = self.options.splitThreshold
        if threshold > 0 {
            span = state.outpaces(id, remaining: end - position, threshold: threshold)
                ? end : min(span, max(chunkSize, (position - start + chunkSize - 1) / chunkSize * chunkSize))
        }
        let bounded = !singleStream && self.options.connections > 1
        let requestEnd = bounded ? min(end, (position / chunkSize) * chunkSize + span) : end
        state.setRequestEnd(id, requestEnd)
        let (response, body) = try await self.request(position...(requestEnd - 1), fetch)
        state.attach(body, to: id)
        defer { state.detach(id) }
        switch response.status {
        case 206:
            guard let start = Self.contentRangeStart(response.headers["content-range"]), start == position else {
                body.cancel()
                throw TransferError(.protocolError, "blob \(self.id): the server answered a Range request with the wrong Content-Range (\(response.headers["content-range"] ?? "none"))")
            }
            gate?.decide(true)
            gate = nil
        case 200:
            // The whole blob follows: usable only as the one stream from byte 0.
            guard singleStream || (gate != nil && state.becomeSingleStream(id)) else {
                body.cancel()
                throw RangeIgnored()
            }
            gate?.decide(false)
            gate = nil
            position = 0
            state.rewind(id)
        default:
            body.cancel()
            throw TransferError(.protocolError, "blob \(self.id): unexpected HTTP \(response.status)")
        }
        let bodyEnd = response.status == 200 ? self.size : requestEnd
        var writeback = position
        // Bytes gathered by a direct writer are journaled once written: `written` may trail `position`.
        let writer = DirectWriter(file, at: self.base + position) { bytes, offset in state.hashInline(bytes, at: offset - self.base) }
        // The writer takes whole blocks straight from chunks laid out for their file offsets: one copy fewer.
        if writer != nil { body.place(firstByteAt: self.base + position) }
        // Direct writes wait for the disk, so they run off the cooperative pool, and the watchdog does not take
        // that wait for a stalled connection. This task alone uses the writer and waits for each of its writes: one
        // thread at a time (hence `nonisolated(unsafe)` where the writer crosses to the other thread).
        func withWriter(_ work: @escaping @Sendable (DirectWriter) throws -> Void) async throws {
            guard let writer else { return }
            nonisolated(unsafe) let direct = writer
            state.writing(id, true)
            defer { state.writing(id, false) }
            try await offThePool { try work(direct) }
        }
        var written = position
        func record(arrived: Int) throws {
            let now = writer.map { $0.written - self.base } ?? position
            let syncNow = try state.advance(
                id, to: now, received: position, arrived: Int64(arrived), wrote: now - written, syncEvery: self.options.syncEvery)
            written = now
            if syncNow && self.extent == nil {
                _ = fdatasync(file.fd)
                state.journal.sync()
            }
        }
        for try await chunk in body {
            let limit = min(state.segment(id)?.end ?? bodyEnd, bodyEnd)
            let n = Int(min(Int64(chunk.count), max(0, limit - position)))
            if n > 0 {
                if writer != nil {
                    try await withWriter { w in try chunk.withUnsafeBytes { try w.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
                } else {
                    try chunk.withUnsafeBytes { all in
                        let bytes = UnsafeRawBufferPointer(rebasing: all[0..<n])
                        try writeAll(file.fd, bytes, at: self.base + position, path: self.path)
                        state.hashInline(bytes, at: position)
                    }
                }
                position += Int64(n)
                if writer == nil && self.startsWriteback && position - writeback >= Self.writebackBatch {
                    // Start writing it out now, while the link is busy: the sync before the rename then has little
                    // left to do, instead of the whole file (the kernel lets gigabytes of dirty pages wait otherwise).
                    _ = CFile_start_writeback(file.fd, self.base + writeback, position - writeback)
                    writeback = position
                }
                try record(arrived: n)
                self.progress?(ProgressEvent(id: self.id, kind: .bytes(Int64(n))))
            }
            if position >= limit {
                body.cancel()
                try await withWriter { try $0.finish() }
                try record(arrived: 0)
                return
            }
        }
        try await withWriter { try $0.finish() }
        try record(arrived: 0)
        if position < min(state.segment(id)?.end ?? bodyEnd, bodyEnd) {
            throw TransferError(.connectionLost, "blob \(self.id): connection ended at byte \(position) of \(self.size)")
        }
    }

    /// Sends a segment's request, giving up when no response head comes within the stall timeout: the watchdog only
    /// sees bodies, and curl has no timeout on a request that waits for its answer, so a server that accepts the
    /// request and then says nothing would otherwise hold the segment (and, for the first one, the gate) forever.
    private func request(_ range: ClosedRange<Int64>, _ fetch: @escaping Fetch) async throws -> (Response, ResponseBody) {
        let seconds = self.options.stallTimeout
        return try await withThrowingTaskGroup(of: (Response, ResponseBody)?.self) { group in
            group.addTask { try await fetch(range) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            // The first to finish decides; a response that loses the race is dropped, which cancels its transfer.
            guard let first = try await group.next(), let answer = first else {
                throw TransferError(.timeout, "blob \(self.id): no response for \(Int(seconds)) s")
            }
            return answer
        }
    }

    /// Follows the written prefix and hashes what the connections did not (reading the file), so the digest is ready
    /// moments after the last byte.
    private func hash(fd: Int32, state: DownloadState) async throws -> String {
        let base = self.base, path = self.path
        while true {
            let frontier = state.frontier()
            var hashed = state.hashed
            if hashed < frontier {
                // A read from the disk for a bundle (written around the page cache): off the cooperative pool.
                hashed = try await offThePool { try state.hashFromFile(fd, base: base, upTo: frontier, path: path) }
            }
            // Done once every byte is hashed and every chunk journaled as written.
            if hashed >= self.size && frontier >= self.size { return state.digest() }
            try Task.checkCancellation()
            await state.waitForProgress(beyond: frontier)
        }
    }

    /// Drops connections that go silent; curl's own timeouts would also fire on handles merely queued.
    private func watchdog(_ state: DownloadState) async {
        let tick = max(0.05, min(1, self.options.stallTimeout / 4))
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(tick * 1e9))
            state.cancelStalled(olderThan: self.options.stallTimeout)
        }
    }

    /// A Range request covers at least this many chunks and bytes (more requests cost round trips), and at most
    /// that when other connections could take over the rest.
    static let chunksPerRequest: Int64 = 4
    static let minimumRequest: Int64 = 32 << 20
    /// Bytes written before their writeback is started.
    static let writebackBatch: Int64 = 8 << 20

    static func contentRangeStart(_ header: String?) -> Int64? {
        // "bytes 100-199/1000"
        guard let header, let range = header.split(separator: " ").last, let dash = range.firstIndex(of: "-") else { return nil }
        return Int64(range[..<dash])
    }
}

/// Thrown when a server answers a Range request with the whole blob: the download starts again as one stream.
struct RangeIgnored: Error {}

import Codec
import Foundation
import Glibc
import Synchronization

/// A segment's rate over its last whole window of bytes.
struct Flow {
    var mark: (at: ContinuousClock.Instant, position: Int64)
    /// Bytes a second in the last whole window; nil until one has passed.
    var rate: Double?

    /// The first rate may come from this many bytes before a window has passed: on a fast link a whole blob can
    /// arrive within one window, and its requests are sized by the rate (more than a socket buffer's burst).
    static let firstSample: Int64 = 16 << 20

    mutating func record(_ position: Int64, at now: ContinuousClock.Instant, window: Duration) {
        let elapsed = now - self.mark.at
        guard elapsed >= window || (self.rate == nil && position - self.mark.position >= Self.firstSample) else { return }
        self.rate = Double(position - self.mark.position) / elapsed.inSeconds
        self.mark = (now, position)
    }
}

/// What the connections, the hasher and the watchdog of one download share, behind one lock.
final class DownloadState: Sendable {
    private struct Inner {
        var scheduler: SegmentScheduler
        var bodies: [Int: ResponseBody] = [:]
        var lastByte: [Int: ContinuousClock.Instant] = [:]
        /// Segments whose reader is waiting for the disk to take what it received.
        var writing: Set<Int> = []
        /// Each segment's recent rate, for deciding whether to split it: measured over whole windows from its first
        /// byte (a loaded server's slow answer is not a slow link, and a first burst is not a fast one).
        var flowing: [Int: Flow] = [:]
        var stalled: Set<Int> = []
        var bytesSinceSync: Int64 = 0
        var fetched: Int64 = 0
        var retries = 0
        var frontierWaiters: [(Int64, CheckedContinuation<Void, Never>)] = []
    }

    let journal: Journal
    /// How long a segment's bytes are counted before its rate is known; the rate is renewed every window after.
    static let rateWindow: Duration = .milliseconds(100)
    private let inner: Mutex<Inner>
    /// The running digest of bytes [0, hashed). Fed from memory by the connection writing at `hashed`, else by the
    /// hasher task reading the file when other segments filled the gap (from the page cache; from the disk for a
    /// bundle, written with `O_DIRECT`: hence `ConnectionBudget`).
    private let hashing = Mutex<(hasher: SHA256, hashed: Int64)>((SHA256(), 0))

    init(scheduler: SegmentScheduler, journal: Journal) {
        self.inner = Mutex(Inner(scheduler: scheduler))
        self.journal = journal
    }

    var isComplete: Bool { self.inner.withLock { $0.scheduler.isComplete } }
    var pendingChunks: Int { self.inner.withLock { $0.scheduler.plan.count - $0.scheduler.doneCount } }

    func claim() -> SegmentScheduler.Segment? {
        self.inner.withLock { s in
            let segment = s.scheduler.claim()
            if let segment { s.lastByte[segment.id] = .now }
            return segment
        }
    }

    enum ExtraClaim {
        case segment(SegmentScheduler.Segment)
        /// Nothing worth splitting yet.
        case wait
        /// The blob is complete.
        case finished
    }

    /// Work for an extra connection: chunks nobody fetches, or the tail of a segment that, at its rate over the
    /// last whole `rateWindow`, still needs more than `threshold` seconds. A fast connection is left alone:
    /// a split would cost a request and out-of-order hashing and save nothing.
    func claimExtra(threshold: Double) -> ExtraClaim {
        self.inner.withLock { s in
            if s.scheduler.isComplete { return .finished }
            let flowing = s.flowing
            let segment = s.scheduler.claim { victim in
                guard let rate = flowing[victim.id]?.rate else { return false }
                return Double(victim.end - victim.position) > rate * threshold
            }
            guard let segment else { return .wait }
            s.lastByte[segment.id] = .now
            return .segment(segment)
        }
    }

    /// Whether segment `id`, at its measured rate, fetches `remaining` bytes within `threshold` seconds: then no
    /// extra connection would split it (`claimExtra`), and its next request can run to its end.
    func outpaces(_ id: Int, remaining: Int64, threshold: Double) -> Bool {
        self.inner.withLock { s in
            guard let rate = s.flowing[id]?.rate else { return false }
            return Double(remaining) <= rate * threshold
        }
    }

    func segment(_ id: Int) -> SegmentScheduler.Segment? { self.inner.withLock { $0.scheduler.segment(id) } }
    func position(_ id: Int) -> Int64 { self.inner.withLock { $0.scheduler.segment(id)?.position ?? 0 } }
    func frontier() -> Int64 { self.inner.withLock { $0.scheduler.frontier() } }

    func release(_ id: Int) {
        self.inner.withLock { s in
            s.scheduler.release(id)
            s.lastByte[id] = nil
            s.flowing[id] = nil
            s.stalled.remove(id)
        }
        self.wakeHasher()
    }

    /// This connection got the whole blob for a Range request: it becomes the only segment, from byte 0.
    func becomeSingleStream(_ id: Int) -> Bool {
        self.inner.withLock { $0.scheduler.makeWhole(id) }
    }

    func setRequestEnd(_ id: Int, _ end: Int64) {
        self.inner.withLock { $0.scheduler.setRequestEnd(id, end) }
    }

    func rewind(_ id: Int) {
        self.inner.withLock { _ = $0.scheduler.makeWhole(id) }
    }

    /// Records received bytes (up to `received`, `arrived` of them new) and written ones (up to `position`, which
    /// may lag while a direct write gathers blocks), marks finished chunks in the journal; true when data and
    /// journal should be synced now.
    func advance(_ id: Int, to position: Int64, received: Int64, arrived: Int64, wrote: Int64, syncEvery: Int64) throws -> Bool {
        let syncNow = try self.inner.withLock { s -> Bool in
            let now = ContinuousClock.now
            if s.flowing[id] == nil {
                // From the first byte: the wait for the answer is the server's, not the link's.
                s.flowing[id] = Flow(mark: (now, received - arrived))
            } else {
                s.flowing[id]!.record(received, at: now, window: Self.rateWindow)
            }
            if wrote > 0 { for chunk in s.scheduler.advance(id, to: position) { try self.journal.mark(chunk) } }
            s.lastByte[id] = now
            s.fetched += wrote
            s.bytesSinceSync += wrote
            if s.bytesSinceSync >= syncEvery {
                s.bytesSinceSync = 0
                return true
            }
            return false
        }
        self.wakeHasher()
        return syncNow
    }

    func attach(_ body: ResponseBody, to id: Int) {
        self.inner.withLock { s in
            s.bodies[id] = body
            s.lastByte[id] = .now
        }
    }

    func detach(_ id: Int) {
        _ = self.inner.withLock { $0.bodies.removeValue(forKey: id) }
    }

    /// Segment `id`'s reader starts or stops waiting for the disk. Meanwhile nothing arrives (curl pauses once the
    /// buffer is full, as nobody reads), but the connection is not stalled: the watchdog leaves it alone, and its
    /// clock starts again when the write returns. A disk that stalled for seconds had cut healthy requests.
    func writing(_ id: Int, _ busy: Bool) {
        self.inner.withLock { s in
            if busy {
                s.writing.insert(id)
            } else {
                s.writing.remove(id)
                s.lastByte[id] = .now
            }
        }
    }

    /// Cancels the requests of segments that received nothing for `seconds`; their workers see it in `takeStalled`.
    func cancelStalled(olderThan seconds: Double) {
        let now = ContinuousClock.now
        let victims = self.inner.withLock { s -> [ResponseBody] in
            var out: [ResponseBody] = []
            for (id, body) in s.bodies where !s.writing.contains(id) {
                guard let last = s.lastByte[id], now - last > .milliseconds(Int(seconds * 1000)) else { continue }
                s.stalled.insert(id)
                s.lastByte[id] = now
                out.append(body)
            }
            return out
        }
        for body in victims { body.cancel() }
    }

    /// True once for a segment whose request the watchdog cancelled.
    func takeStalled(_ id: Int) -> Bool {
        self.inner.withLock { $0.stalled.remove(id) != nil }
    }

    /// Hashes `bytes`, just written at `offset`, if they continue the hashed prefix: no second read.
    func hashInline(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        self.hashing.withLock { h in
            guard h.hashed == offset else { return }
            h.hasher.update(bytes)
            h.hashed += Int64(bytes.count)
        }
    }

    /// How far the hash has got.
    var hashed: Int64 { self.hashing.withLock { $0.hashed } }

    /// Hashes from the file up to `frontier`; returns how far the hash has got. A blocking read: call it off the pool.
    func hashFromFile(_ fd: Int32, base: Int64, upTo frontier: Int64, path: String) throws -> Int64 {
        try self.hashing.withLock { h in
            guard h.hashed < frontier else { return h.hashed }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(1 << 20, frontier - h.hashed)), alignment: 64)
            defer { buffer.deallocate() }
            while h.hashed < frontier {
                let n = Int(min(Int64(buffer.count), frontier - h.hashed))
                let got = pread(fd, buffer.baseAddress, n, off_t(base + h.hashed))
                guard got > 0 else { throw TransferError(.io, "cannot read back \(path): \(String(cString: strerror(errno)))") }
                h.hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
                h.hashed += Int64(got)
            }
            return h.hashed
        }
    }

    func digest() -> String { self.hashing.withLock { $0.hasher.hexDigest() } }

    func countRetry() { self.inner.withLock { $0.retries += 1 } }

    func stats() -> (fetched: Int64, retries: Int) { self.inner.withLock { ($0.fetched, $0.retries) } }

    /// Suspends the hasher until the written prefix grows past `frontier` (or the task is cancelled).
    func waitForProgress(beyond frontier: Int64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = self.inner.withLock { s -> Bool in
                    if Task.isCancelled || s.scheduler.frontier() > frontier { return true }
                    s.frontierWaiters.append((frontier, c))
                    return false
                }
                if ready { c.resume() }
            }
        } onCancel: {
            self.wakeHasher(all: true)
        }
    }

    private func wakeHasher(all: Bool = false) {
        let ready = self.inner.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.frontierWaiters.isEmpty else { return [] }
            let f = all ? Int64.max : s.scheduler.frontier()
            var out: [CheckedContinuation<Void, Never>] = []
            s.frontierWaiters.removeAll { w in
                if all || f > w.0 { out.append(w.1); return true }
                return false
            }
            return out
        }
        for c in ready { c.resume() }
    }
}

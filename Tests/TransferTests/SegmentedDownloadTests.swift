import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Transfer

/// `SegmentedDownload` in process, fetching from a real registry with the real engine: resume, servers that change
/// their mind about Range, silent servers, corrupt content, and the empty blob.
@Suite struct SegmentedDownloadTests {
    static let chunk: Int64 = 256 << 10

    /// Range GETs of the fixture's blob; `mutate` may change each request (by call number) before it is sent.
    static func fetcher(
        _ engine: CurlEngine, url: String, calls: Counter? = nil,
        mutate: @escaping @Sendable (Int, inout Request) -> Void = { _, _ in }
    ) -> SegmentedDownload.Fetch {
        { range in
            let n = calls?.next() ?? 0
            var request = Request(url: url, httpVersion: .http1_1, bufferLimit: 512 << 10)
            request.headers.set("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")
            mutate(n, &request)
            return try await engine.execute(request)
        }
    }

    /// Options whose connections all start at once, on equal shares: for tests about several requests of one blob.
    static func atOnce(connections: Int) -> DownloadOptions {
        var options = DownloadOptions(connections: connections, chunkSize: Self.chunk)
        options.splitThreshold = 0
        return options
    }

    /// Counts calls across tasks.
    final class Counter: Sendable {
        private let count = Mutex(0)
        /// The number of calls before this one.
        func next() -> Int {
            self.count.withLock { n in
                defer { n += 1 }
                return n
            }
        }
        var value: Int { self.count.withLock { $0 } }
    }

    /// Collects progress events.
    final class Events: Sendable {
        let list = Mutex<[ProgressEvent.Kind]>([])
        var handler: ProgressHandler { { [self] e in self.list.withLock { $0.append(e.kind) } } }
        var bytes: Int64 { self.list.withLock { $0.reduce(0) { if case .bytes(let n) = $1 { $0 + n } else { $0 } } } }
        var retries: Int { self.list.withLock { $0.count { if case .retried = $0 { true } else { false } } } }
    }

    @Test("cancelled part way, run again: finished chunks are kept, only the rest is fetched, the file verifies")
    func resumeAfterCancel() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 6 << 20, seed: 411)
        defer { fixture.stop() }
        // Slow enough (about 3 s in all) that the cancellation lands part way even when the suite loads both cores.
        let proxy = try await TestProxy.start(upstream: fixture.registry.address, faults: ["throttle=500000,path=/blobs/"])
        defer { proxy.stop() }
        let engine = CurlEngine()
        let path = fixture.work.appending("blob.partial").path
        let options = DownloadOptions(connections: 4, chunkSize: Self.chunk)
        let download = SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: fixture.blob.hex, size: Int64(fixture.blob.size), path: path, options: options)
        let fetch = Self.fetcher(engine, url: fixture.url(via: proxy.address))

        let first = Task { try await download.run(fetch) }
        // A quarter, not half: under a loaded suite the proxy's throttle wakes late and the link runs slower.
        let chunks = fixture.blob.size / Int(Self.chunk)
        let part = chunks / 4
        let reached = try await eventually(.seconds(30)) { Self.doneChunks(download.journalPath) >= part }
        #expect(reached)
        first.cancel()
        await #expect(throws: (any Error).self) { try await first.value }
        let done = Self.doneChunks(download.journalPath)
        #expect(done >= part, "the journal kept \(done) chunks after cancellation")
        #expect(done < chunks, "cancelled before the end")
        let plan = ChunkPlan(size: Int64(fixture.blob.size), chunkSize: Self.chunk)
        let doneBytes = Self.doneIndices(download.journalPath).reduce(Int64(0)) { $0 + Int64(plan.range(of: $1).count) }
        #expect(FileManager.default.fileExists(atPath: path))

        let outcome = try await download.run(fetch)
        let size = Int64(fixture.blob.size)
        #expect(outcome.resumedBytes == doneBytes, "every chunk the journal had is kept")
        #expect(outcome.fetchedBytes >= size - outcome.resumedBytes)
        let limit = size - outcome.resumedBytes + 4 * Self.chunk
        #expect(outcome.fetchedBytes <= limit, "fetched \(outcome.fetchedBytes), resumed \(outcome.resumedBytes)")
        #expect(try sha256Hex(file: path) == fixture.blob.hex)
        #expect(!FileManager.default.fileExists(atPath: download.journalPath), "the journal is removed on success")
    }

    /// Indices of the chunks marked done in a journal file (format v1).
    static func doneIndices(_ path: String) -> [Int] {
        guard let data = FileManager.default.contents(atPath: path), data.count > 28 else { return [] }
        let bytes = [UInt8](data)
        let start = 28 + (Int(bytes[26]) << 8 | Int(bytes[27]))
        guard bytes.count > start else { return [] }
        return (0..<(bytes.count - start) * 8).filter { bytes[start + $0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }
    }

    /// Chunks marked done in a journal file (format v1), read without opening it as a `Journal`.
    static func doneChunks(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path), data.count > 28 else { return 0 }
        let bytes = [UInt8](data)
        let digestLength = Int(bytes[26]) << 8 | Int(bytes[27])
        guard bytes.count > 28 + digestLength else { return 0 }
        return bytes[(28 + digestLength)...].reduce(0) { $0 + $1.nonzeroBitCount }
    }

    @Test("a server that starts ignoring Range after answering 206: the download starts over as one stream and verifies")
    func rangeIgnoredLater() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 3 << 20, seed: 412)
        defer { fixture.stop() }
        let engine = CurlEngine()
        let path = fixture.work.appending("blob.partial").path
        let calls = Counter()
        // Only the first request keeps its Range header; the others get 200 with the whole blob.
        let fetch = Self.fetcher(engine, url: fixture.url(), calls: calls) { n, request in
            if n > 0 { request.headers.remove("Range") }
        }
        let events = Events()
        let download = SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: fixture.blob.hex, size: Int64(fixture.blob.size), path: path,
            options: Self.atOnce(connections: 4), progress: events.handler)
        try await download.run(fetch)
        #expect(try sha256Hex(file: path) == fixture.blob.hex)
        #expect(calls.value >= 2)
    }

    @Test("a request that never gets a response head is given up after the stall timeout and retried", .timeLimit(.minutes(2)))
    func silentServer() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 2 << 20, seed: 413)
        defer { fixture.stop() }
        let engine = CurlEngine()
        let path = fixture.work.appending("blob.partial").path
        let calls = Counter()
        let inner = Self.fetcher(engine, url: fixture.url())
        let fetch: SegmentedDownload.Fetch = { range in
            if calls.next() == 0 {
                try await Task.sleep(for: .seconds(3600))  // silent until cancelled
            }
            return try await inner(range)
        }
        let events = Events()
        // Equal shares at once: one short chain of requests, each open to a spurious 1.5 s stall on a loaded machine,
        // made this test take over 20 s in CI.
        var options = Self.atOnce(connections: 4)
        options.stallTimeout = 1.5
        let download = SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: fixture.blob.hex, size: Int64(fixture.blob.size), path: path,
            options: options, progress: events.handler)
        let start = ContinuousClock.now
        let outcome = try await download.run(fetch)
        // Far below the silent request's hour; not tighter: at a load of 20 on two cores the watchdog itself wakes late
        // and a 1.5 s timeout also cuts requests that are merely starved (full runs measured 15 s, 20.6 s and 21.6 s).
        #expect((ContinuousClock.now - start).seconds < 40)
        #expect(outcome.retries >= 1 && events.retries >= 1)
        #expect(try sha256Hex(file: path) == fixture.blob.hex)
    }

    @Test("content with the wrong digest: partial state deleted, fetched once more from zero, then an error naming both digests")
    func digestMismatch() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 1 << 20, seed: 414)
        defer { fixture.stop() }
        let engine = CurlEngine()
        let path = fixture.work.appending("blob.partial").path
        let wrong = String(repeating: "0", count: 64)
        let events = Events()
        let download = SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: wrong, size: Int64(fixture.blob.size), path: path,
            options: DownloadOptions(connections: 2, chunkSize: Self.chunk), progress: events.handler)
        do {
            try await download.run(Self.fetcher(engine, url: fixture.url()))
            Issue.record("a blob with the wrong digest was accepted")
        } catch let e as TransferError {
            #expect(e.code == .digestMismatch)
            #expect(e.message.contains("sha256:" + wrong) && e.message.contains(fixture.blob.digest), "\(e.message)")
        }
        #expect(events.retries == 1, "retried once from zero")
        #expect(events.bytes == 2 * Int64(fixture.blob.size), "two full fetches, nothing more")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: download.journalPath))
    }

    /// Both fallbacks in one download: a digest mismatch (start again from zero, once) and a server that stops
    /// honouring Range (start again as one stream). Whatever their order, the result is the mismatch error, after
    /// exactly one retry from zero, never an internal error.
    @Test("digest mismatch and Range ignored in the same download, in either order", arguments: [true, false])
    func mismatchAndRangeIgnored(mismatchFirst: Bool) async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 2 << 20, seed: 416)
        defer { fixture.stop() }
        let engine = CurlEngine()
        let path = fixture.work.appending("blob.partial").path
        // Phase 0 until the first retry event (the mismatch), then phase 1.
        let phase = Mutex((retried: false, callsSinceRetry: 0, calls: 0))
        let events = Events()
        let progress: ProgressHandler = { e in
            if case .retried = e.kind { phase.withLock { $0.retried = true } }
            events.handler(e)
        }
        let inner = Self.fetcher(engine, url: fixture.url())
        let fetch: SegmentedDownload.Fetch = { range in
            let dropRange = phase.withLock { p -> Bool in
                p.calls += 1
                if p.retried { p.callsSinceRetry += 1 }
                // mismatchFirst: the first attempt is all 206; after the mismatch, only the first request keeps Range.
                // otherwise: only the very first request keeps Range.
                return mismatchFirst ? p.callsSinceRetry > 1 : p.calls > 1
            }
            if !dropRange { return try await inner(range) }
            var request = Request(url: fixture.url(), httpVersion: .http1_1, bufferLimit: 512 << 10)
            request.headers.remove("Range")
            return try await engine.execute(request)
        }
        let download = SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: String(repeating: "1", count: 64), size: Int64(fixture.blob.size), path: path,
            options: Self.atOnce(connections: 4), progress: progress)
        do {
            try await download.run(fetch)
            Issue.record("a blob with the wrong digest was accepted")
        } catch let e as TransferError {
            #expect(e.code == .digestMismatch, "\(e)")
        } catch {
            Issue.record("expected the digest mismatch, got \(type(of: error)): \(error)")
        }
        let digestRetries = events.list.withLock { $0.count { if case .retried(_, let reason) = $0 { reason.contains("digest") } else { false } } }
        #expect(digestRetries == 1, "the blob is fetched again from zero once after a mismatch")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("an empty blob completes without a request")
    func emptyBlob() async throws {
        let dir = try TemporaryDirectory(prefix: "ferry-empty-")
        defer { dir.remove() }
        let path = dir.appending("empty.partial").path
        let calls = Counter()
        let download = SegmentedDownload(
            id: "empty", expectedSHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", size: 0, path: path)
        let outcome = try await download.run { _ in
            _ = calls.next()
            throw TransferError(.other, "no request expected")
        }
        #expect(calls.value == 0)
        #expect(outcome.fetchedBytes == 0)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test("progress: started, bytes adding up to the size, finished")
    func progress() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 2 << 20, seed: 415)
        defer { fixture.stop() }
        let engine = CurlEngine()
        let events = Events()
        let path = fixture.work.appending("blob.partial").path
        let download = SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: fixture.blob.hex, size: Int64(fixture.blob.size), path: path,
            options: DownloadOptions(connections: 4, chunkSize: Self.chunk), progress: events.handler)
        let outcome = try await download.run(Self.fetcher(engine, url: fixture.url()))
        let kinds = events.list.withLock { $0 }
        #expect(kinds.first == .started(total: Int64(fixture.blob.size)))
        #expect(kinds.last == .finished)
        #expect(events.bytes == Int64(fixture.blob.size))
        #expect(outcome.fetchedBytes == Int64(fixture.blob.size) && outcome.resumedBytes == 0)
    }
}

/// Splitting by rate: extra connections split only what is slow.
@Suite struct SegmentedDownloadSplitTests {
    /// The Range of every request a download sent, in order.
    final class Ranges: Sendable {
        let list = Mutex<[ClosedRange<Int64>]>([])
        var starts: [Int64] { Set(self.list.withLock { $0 }.map(\.lowerBound)).sorted() }

        func fetcher(_ engine: CurlEngine, url: String) -> SegmentedDownload.Fetch {
            let inner = SegmentedDownloadTests.fetcher(engine, url: url)
            return { [self] range in
                self.list.withLock { $0.append(range) }
                return try await inner(range)
            }
        }
    }

    static func download(_ fixture: BlobFixture, threshold: Double) -> SegmentedDownload {
        var options = DownloadOptions(connections: 4, chunkSize: SegmentedDownloadTests.chunk)
        options.splitThreshold = threshold
        return SegmentedDownload(
            id: fixture.blob.digest, expectedSHA256: fixture.blob.hex, size: Int64(fixture.blob.size),
            path: fixture.work.appending("blob.partial").path, options: options)
    }

    /// Checks that `ranges` run back to back from byte 0 on one connection, each as long as all before it (one
    /// chunk first), until one that runs to the end of the blob; returns where that last one started.
    static func doublingThenRest(_ ranges: [ClosedRange<Int64>], size: Int64) -> Int64? {
        let c = SegmentedDownloadTests.chunk
        var position: Int64 = 0
        for (i, range) in ranges.enumerated() {
            guard range.lowerBound == position else { return nil }
            if range.upperBound == size - 1 { return i == ranges.count - 1 ? position : nil }
            guard range.count == max(c, position) else { return nil }
            position = range.upperBound + 1
        }
        return nil
    }

    @Test("a connection that finishes within the threshold is never split: its requests double from one chunk")
    func fast() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 2 << 20, seed: 421)
        defer { fixture.stop() }
        let ranges = Ranges()
        // 2 MiB would be split only below 35 kB/s, which not even a loaded test machine comes near.
        try await Self.download(fixture, threshold: 60).run(ranges.fetcher(CurlEngine(), url: fixture.url()))
        let list = ranges.list.withLock { $0 }
        // 1, 1, 2, 4 chunks, then the rest (sooner, if a whole rate window passed on a loaded machine): in order,
        // back to back, on one connection.
        #expect(Self.doublingThenRest(list, size: Int64(fixture.blob.size)) != nil, "requests: \(list)")
        #expect(try sha256Hex(file: fixture.work.appending("blob.partial").path) == fixture.blob.hex)
    }

    @Test("a fast connection whose rate is known asks for the rest of its segment in one request")
    func rateSizedRequest() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 40 << 20, seed: 424)
        defer { fixture.stop() }
        let ranges = Ranges()
        // Split only below 12 kB/s: a full test run on 2 cores measured a window slow enough to split at 60 s.
        try await Self.download(fixture, threshold: 3600).run(ranges.fetcher(CurlEngine(), url: fixture.url()))
        let list = ranges.list.withLock { $0 }
        let last = Self.doublingThenRest(list, size: Int64(fixture.blob.size))
        // By 16 MiB the rate is known (Flow.firstSample), if no window passed sooner: the request from there runs to
        // the end, where doubling alone would have asked for 16 MiB and then the last 8.
        #expect(last != nil && last! <= 16 << 20, "requests: \(list)")
        #expect(list.count <= 8, "requests: \(list)")
        #expect(try sha256Hex(file: fixture.work.appending("blob.partial").path) == fixture.blob.hex)
    }

    @Test("a slow link: extra connections split the blob")
    func slow() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 3 << 20, seed: 422)
        defer { fixture.stop() }
        // 6 s at 500 kB/s a connection: well over the threshold once the rate is measured, even on a loaded machine.
        let proxy = try await TestProxy.start(upstream: fixture.registry.address, faults: ["throttle=500000,path=/blobs/"])
        defer { proxy.stop() }
        let ranges = Ranges()
        try await Self.download(fixture, threshold: 1).run(ranges.fetcher(CurlEngine(), url: fixture.url(via: proxy.address)))
        let starts = ranges.starts
        let c = SegmentedDownloadTests.chunk
        // Alone, the first connection's requests would start at 0, c, 2c, 4c and 8c, and nowhere else.
        #expect(starts != [0, c, 2 * c, 4 * c, 8 * c], "requests started at \(starts)")
        #expect(try sha256Hex(file: fixture.work.appending("blob.partial").path) == fixture.blob.hex)
    }

    @Test("a slow link, but other blobs hold the connection budget: no split, and every slot comes back")
    func budgetSpent() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 3 << 19, seed: 425)
        defer { fixture.stop() }
        // 3 s at 500 kB/s a connection: split within a second without a budget (see `slow`).
        let proxy = try await TestProxy.start(upstream: fixture.registry.address, faults: ["throttle=500000,path=/blobs/"])
        defer { proxy.stop() }
        let budget = ConnectionBudget(limit: 2)
        budget.take()  // another blob's connection
        var download = Self.download(fixture, threshold: 1)
        download.options.budget = budget
        let ranges = Ranges()
        try await download.run(ranges.fetcher(CurlEngine(), url: fixture.url(via: proxy.address)))
        let list = ranges.list.withLock { $0 }
        #expect(Self.doublingThenRest(list, size: Int64(fixture.blob.size)) != nil, "one connection only; requests: \(list)")
        #expect(budget.count == 1, "the download gave back what it took")
        #expect(try sha256Hex(file: fixture.work.appending("blob.partial").path) == fixture.blob.hex)
    }

    @Test("threshold 0: every connection starts at once on an equal share")
    func atOnce() async throws {
        let fixture = try await BlobFixture.launch(layerBytes: 2 << 20, seed: 423)
        defer { fixture.stop() }
        let ranges = Ranges()
        try await Self.download(fixture, threshold: 0).run(ranges.fetcher(CurlEngine(), url: fixture.url()))
        #expect(ranges.starts.count >= 4, "requests started at \(ranges.starts)")
        #expect(!ranges.list.withLock { $0 }.contains(0...(Int64(fixture.blob.size) - 1)), "no request asked for everything")
        #expect(try sha256Hex(file: fixture.work.appending("blob.partial").path) == fixture.blob.hex)
    }
}

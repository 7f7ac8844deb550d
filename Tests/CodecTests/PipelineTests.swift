import Codec
import Foundation
import Testing

@Suite("pipeline: read → decompress → hash → compress → hash → write")
struct PipelineTests {
    static let content = TestData.logText(3 << 20)
    static let small = GzipOptions(level: 6, blockSize: 256 << 10)

    @Test("raw → gzip: digests of all three streams, output valid for gzip -dc")
    func compressGzip() async throws {
        let sink = MemorySink()
        let result = try await Pipeline(encoding: .gzip(Self.small)).run(
            from: MemorySource(Self.content, chunkSize: 100_000), to: sink)
        let out = sink.bytes
        #expect(result.content == StreamDigest(size: Int64(Self.content.count), sha256: TestData.sha256(Self.content)))
        #expect(result.input == result.content)
        #expect(result.output == StreamDigest(size: Int64(out.count), sha256: TestData.sha256(out)))
        #expect(try Tool.output("gzip", ["-dc"], input: out) == Self.content)
        #expect(result.frames == [FrameBoundary(contentOffset: Int64(Self.content.count), outputOffset: Int64(out.count))])
    }

    @Test("gzip → zstd (recompressing a layer): input digest, DiffID, new blob digest")
    func recompress() async throws {
        let gzipped = try Tool.output("gzip", ["-6", "-c"], input: Self.content)
        let sink = MemorySink()
        let result = try await Pipeline(decoding: .gzip, encoding: .zstd(ZstdOptions(level: 3))).run(
            from: MemorySource(gzipped), to: sink)
        #expect(result.input == StreamDigest(size: Int64(gzipped.count), sha256: TestData.sha256(gzipped)))
        #expect(result.content.sha256 == TestData.sha256(Self.content))
        #expect(result.output.sha256 == TestData.sha256(sink.bytes))
        #expect(try Tool.output("zstd", ["-dc"], input: sink.bytes) == Self.content)
    }

    @Test("zstd → raw and detect (gzip, zstd, plain) with files", arguments: [0, 1, 2])
    func decodeAndDetect(kind: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input: [UInt8] = switch kind {
        case 0: try Tool.output("zstd", ["-c"], input: Self.content)
        case 1: try Tool.output("pigz", ["-c"], input: Self.content)
        default: Self.content
        }
        let inPath = directory.appendingPathComponent("in").path
        let outPath = directory.appendingPathComponent("out").path
        try Data(input).write(to: URL(fileURLWithPath: inPath))
        for decoding in kind == 0 ? [Pipeline.Decoding.zstd, .detect] : [.detect] {
            let result = try Pipeline(decoding: decoding).runBlocking(
                from: try FileSource(path: inPath, chunkSize: 65536), to: try FileSink(path: outPath))
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: outPath))) == Self.content)
            #expect(result.content.sha256 == TestData.sha256(Self.content))
            #expect(result.output == result.content)
            #expect(result.input.sha256 == TestData.sha256(input))
        }
    }

    @Test("hashes can be skipped; sizes are always counted")
    func noHashes() async throws {
        let result = try await Pipeline(encoding: .zstd(ZstdOptions()), hashes: []).run(
            from: MemorySource(Self.content), to: DiscardSink())
        #expect(result.content.sha256 == nil && result.output.sha256 == nil)
        #expect(result.content.size == Int64(Self.content.count))
        #expect(result.output.size > 0)
    }

    @Test("frames requested by the source: each decodes on its own", arguments: ["gzip", "zstd"])
    func frames(format: String) async throws {
        let parts = [TestData.logText(300_000, seed: 1), TestData.logText(10, seed: 2), TestData.logText(900_000, seed: 3)]
        let channel = ByteChannel(capacity: 2)
        let encoding: Pipeline.Encoding = format == "gzip" ? .gzip(Self.small) : .zstd(ZstdOptions())
        async let running = Pipeline(encoding: encoding).run(from: channel, to: MemorySink())
        let sink = MemorySink()
        _ = sink
        for part in parts {
            try await channel.send(Array(part.prefix(1000)))
            try await channel.send(Array(part.dropFirst(1000)), endsFrame: true)
        }
        try await channel.send(Array("tail".utf8))
        channel.finish()
        let result = try await running
        var offsets: [Int64] = []
        var total: Int64 = 0
        for part in parts + [Array("tail".utf8)] {
            total += Int64(part.count)
            offsets.append(total)
        }
        #expect(result.frames.map(\.contentOffset) == offsets)
        #expect(result.frames.last?.outputOffset == result.output.size)
    }

    @Test("frame offsets point at independently decodable frames")
    func frameOffsetsAreUsable() async throws {
        let parts = [TestData.logText(500_000, seed: 8), TestData.logText(70_000, seed: 9)]
        let channel = ByteChannel()
        let sink = MemorySink()
        async let running = Pipeline(encoding: .gzip(Self.small)).run(from: channel, to: sink)
        for part in parts { try await channel.send(part, endsFrame: true) }
        channel.finish()
        let result = try await running
        let out = sink.bytes
        #expect(result.frames.count == 2)
        let second = Array(out[Int(result.frames[0].outputOffset)...])
        #expect(try GzipDecoder.decompress(second) == parts[1])
    }

    @Test("compressed output can be consumed from async code through a ByteChannel")
    func channelSink() async throws {
        let channel = ByteChannel(capacity: 2)
        async let running = Pipeline(encoding: .zstd(ZstdOptions())).run(from: MemorySource(Self.content), to: channel)
        var out: [UInt8] = []
        for try await chunk in channel { out += chunk.bytes }
        let result = try await running
        #expect(result.output.sha256 == TestData.sha256(out))
        #expect(try ZstdDecoder.decompress(out) == Self.content)
    }

    @Test("a corrupt input stops the pipeline with the decoder's error")
    func corruptInput() async throws {
        var gzipped = try ParallelGzipEncoder.compress(Self.content)
        gzipped[gzipped.count / 3] ^= 0xff
        await #expect {
            _ = try await Pipeline(decoding: .gzip, encoding: .zstd(ZstdOptions())).run(
                from: MemorySource(gzipped, chunkSize: 4096), to: DiscardSink())
        } throws: { error in
            (error as? CodecError)?.code == .corruptData
        }
    }

    struct Boom: Error, Equatable {}

    /// Fails after `after` chunks; counts how many it was asked for.
    final class FailingSource: ByteSource, @unchecked Sendable {
        let after: Int
        var served = 0
        init(after: Int) { self.after = after }
        func next() throws -> Chunk? {
            if self.served == self.after { throw Boom() }
            self.served += 1
            return Chunk(TestData.logText(100_000, seed: UInt64(self.served)))
        }
    }

    struct FailingSink: ByteSink {
        func write(_ chunk: Chunk) throws { throw Boom() }
    }

    @Test("an error in the source or the sink stops every stage and is what run throws")
    func errorPropagation() async throws {
        await #expect(throws: Boom.self) {
            _ = try await Pipeline(encoding: .gzip(Self.small)).run(from: FailingSource(after: 5), to: DiscardSink())
        }
        await #expect(throws: Boom.self) {
            _ = try await Pipeline(encoding: .zstd(ZstdOptions())).run(from: MemorySource(Self.content), to: FailingSink())
        }
        // The source is not read to its end once the sink failed: backpressure stopped it after a few chunks.
        let endless = FailingSource(after: 1_000_000)
        #expect(throws: Boom.self) {
            _ = try Pipeline(decoding: .none, encoding: .gzip(Self.small), queueDepth: 2).runBlocking(
                from: endless, to: FailingSink())
        }
        #expect(endless.served < 50)
    }

    @Test("cancelling the task stops a pipeline waiting on its source, and the producer learns of it")
    func cancellation() async throws {
        let channel = ByteChannel(capacity: 1)
        let task = Task {
            try await Pipeline(decoding: .none, encoding: .zstd(ZstdOptions())).run(from: channel, to: DiscardSink())
        }
        try await channel.send(TestData.logText(100_000))
        task.cancel()
        let outcome = await task.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        // The channel was failed with the same error, so a producer does not wait forever.
        await #expect(throws: CancellationError.self) {
            for _ in 0..<10 { try await channel.send([1, 2, 3]) }
        }
    }

    @Test("cancelling a busy pipeline (endless source, both codecs working) stops every stage")
    func cancelBusy() async throws {
        let endless = FailingSource(after: .max)
        let task = Task {
            try await Pipeline(decoding: .none, encoding: .gzip(Self.small)).run(from: endless, to: DiscardSink())
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let served = endless.served
        try await Task.sleep(for: .milliseconds(100))
        #expect(endless.served == served)  // the read stage has stopped too
    }

    @Test("cancelling a hash-only pipeline (one fused stage, no queues) stops its reading")
    func cancelHashOnly() async throws {
        let endless = FailingSource(after: .max)
        let task = Task {
            try await Pipeline(hashes: .content).run(from: endless, to: DiscardSink())
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let served = endless.served
        #expect(served > 0)
        try await Task.sleep(for: .milliseconds(100))
        #expect(endless.served == served)
    }

    @Test("a task blocked in send is released by cancelling it")
    func cancelSend() async throws {
        let channel = ByteChannel(capacity: 1)
        try await channel.send([1])
        let sender = Task { try await channel.send([2]) }
        try await Task.sleep(for: .milliseconds(20))
        sender.cancel()
        await #expect(throws: CancellationError.self) { try await sender.value }
        #expect(try await channel.receive() == Chunk([1]))
    }
}

@Suite("format detection")
struct CompressionFormatTests {
    @Test("magic bytes")
    func magic() throws {
        #expect(CompressionFormat.detect(try ParallelGzipEncoder.compress([1, 2, 3])) == .gzip)
        #expect(CompressionFormat.detect(try ZstdEncoder.compress([1, 2, 3])) == .zstd)
        #expect(CompressionFormat.detect([0x50, 0x2a, 0x4d, 0x18]) == .zstd)  // a skippable frame
        #expect(CompressionFormat.detect(Array("plain tar".utf8)) == nil)
        #expect(CompressionFormat.detect([0x1f]) == nil)
        #expect(CompressionFormat.detect([UInt8]()) == nil)
    }
}

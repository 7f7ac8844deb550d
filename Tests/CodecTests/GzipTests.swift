import Codec
import Testing

@Suite("parallel gzip and ISA-L gunzip")
struct GzipTests {
    static let block = 64 << 10
    static let sizes = [0, 1, block, block + 1, 3 * block + 1234]

    @Test("round trip and gzip -dc agree, every size", arguments: sizes)
    func roundTrip(size: Int) throws {
        let content = TestData.logText(size)
        let compressed = try ParallelGzipEncoder.compress(content, options: GzipOptions(level: 6, blockSize: Self.block))
        #expect(try GzipDecoder.decompress(compressed) == content)
        #expect(try Tool.output("gzip", ["-dc"], input: compressed) == content)
    }

    @Test("levels 0, 1, 6, 9 all decode with gzip -dc", arguments: [0, 1, 6, 9])
    func levels(level: Int) throws {
        let content = TestData.logText(200_000)
        let compressed = try ParallelGzipEncoder.compress(content, options: GzipOptions(level: level, blockSize: Self.block))
        #expect(try Tool.output("gzip", ["-dc"], input: compressed) == content)
        if level >= 6 { #expect(compressed.count < content.count / 3) }
    }

    @Test("each level's output is no larger than gzip's at the same level", arguments: 1...9)
    func levelMeansZlibSize(level: Int) throws {
        let content = TestData.logText(4 << 20)
        let ferry = try ParallelGzipEncoder.compress(content, options: GzipOptions(level: level))
        let zlib = try Tool.output("gzip", ["-\(level)", "-c"], input: content)
        #expect(ferry.count <= zlib.count, "level \(level): Ferry \(ferry.count) bytes, gzip \(zlib.count)")
    }

    @Test("exactly one block is one member; each further block is another")
    func membersPerBlock() throws {
        for (size, members) in [(Self.block, 1), (Self.block + 1, 2), (4 * Self.block, 4)] {
            let compressed = try ParallelGzipEncoder.compress(
                TestData.logText(size), options: GzipOptions(blockSize: Self.block))
            let decoder = GzipDecoder()
            var out: [UInt8] = []
            try decoder.decompress(compressed, into: &out)
            try decoder.finish()
            #expect(decoder.members == members)
            #expect(out.count == size)
        }
    }

    @Test("incompressible data survives (stored blocks)")
    func incompressible() throws {
        let content = TestData.random(300_000)
        let compressed = try ParallelGzipEncoder.compress(content, options: GzipOptions(blockSize: Self.block))
        #expect(compressed.count < content.count + content.count / 100)
        #expect(try Tool.output("gzip", ["-dc"], input: compressed) == content)
        #expect(try GzipDecoder.decompress(compressed) == content)
    }

    @Test("Ferry decodes what gzip and pigz write, and their concatenation (multi-member)")
    func decodesSystemTools() throws {
        let a = TestData.logText(700_000, seed: 1)
        let b = TestData.random(100_000)
        let gzipped = try Tool.output("gzip", ["-6", "-c"], input: a)
        let pigzed = try Tool.output("pigz", ["-p2", "-6", "-c"], input: b)
        #expect(try GzipDecoder.decompress(gzipped) == a)
        #expect(try GzipDecoder.decompress(pigzed) == b)
        #expect(try GzipDecoder.decompress(gzipped + pigzed + gzipped) == a + b + a)
        // A header with a file name (FNAME), as `gzip FILE` writes.
        let named = try Tool.output("gzip", ["-c", "--name"], input: a)
        #expect(try GzipDecoder.decompress(named) == a)
    }

    @Test("fed a few bytes at a time, across member boundaries", arguments: [1, 7, 4093])
    func smallPieces(piece: Int) throws {
        let content = TestData.logText(150_000)
        let compressed = try ParallelGzipEncoder.compress(content, options: GzipOptions(blockSize: Self.block))
        let decoder = GzipDecoder(chunkSize: 10_000)
        var out: [UInt8] = []
        var offset = 0
        while offset < compressed.count {
            let end = min(offset + piece, compressed.count)
            try decoder.decompress(Array(compressed[offset..<end]), into: &out)
            offset = end
        }
        try decoder.finish()
        #expect(out == content)
        #expect(decoder.members == 3)
    }

    @Test("members end where the caller asks")
    func callerBoundaries() throws {
        let encoder = try ParallelGzipEncoder(options: GzipOptions(blockSize: Self.block))
        let parts = [TestData.logText(1000, seed: 2), TestData.logText(100_000, seed: 3), TestData.logText(5, seed: 4)]
        var members: [[UInt8]] = []
        var current: [UInt8] = []
        let emit: (Chunk) -> Void = { chunk in
            current += chunk.bytes
            if chunk.endsFrame {
                members.append(current)
                current = []
            }
        }
        for part in parts {
            try encoder.encode(part, emit: emit)
            #expect(try encoder.endFrame(emit: emit))
        }
        #expect(try encoder.endFrame(emit: emit) == false)  // nothing since the last end
        try encoder.finish(emit: emit)
        #expect(current.isEmpty)
        #expect(members.count == parts.count)
        for (member, part) in zip(members, parts) {
            #expect(try Tool.output("gzip", ["-dc"], input: member) == part)
        }
    }

    @Test("corrupt streams fail with a clear CodecError")
    func corrupt() throws {
        let content = TestData.logText(300_000)
        let good = try ParallelGzipEncoder.compress(content, options: GzipOptions(blockSize: Self.block))

        func failure(_ bytes: [UInt8]) -> CodecError? {
            do {
                _ = try GzipDecoder.decompress(bytes)
                return nil
            } catch let error as CodecError {
                return error
            } catch {
                return nil
            }
        }

        var flipped = good
        flipped[good.count / 2] ^= 0x55
        let bad = try #require(failure(flipped))
        #expect(bad.code == .corruptData)
        #expect(bad.message.contains("gzip stream is corrupt at compressed byte"))

        var badCRC = good
        badCRC[good.count - 6] ^= 0x01  // the last member's CRC-32
        #expect(failure(badCRC)?.code == .corruptData)

        var badLength = good
        badLength[good.count - 1] ^= 0x01  // the last member's ISIZE
        #expect(failure(badLength)?.code == .corruptData)

        let truncated = try #require(failure(Array(good.prefix(good.count - 10))))
        #expect(truncated.code == .truncated)
        #expect(truncated.message.contains("ends inside member"))

        #expect(failure([])?.code == .truncated)
        #expect(failure(Array("not gzip at all".utf8))?.code == .corruptData)
        #expect(failure(good + [UInt8](repeating: 0, count: 32))?.message.contains("data after the last gzip member") == true)
        #expect(failure(good + [0, 0, 0, 0]) != nil)  // too short to be a header: reported as truncated
    }
}

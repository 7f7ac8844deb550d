import Codec
import Testing

@Suite("zstd on libzstd workers")
struct ZstdTests {
    @Test("round trip and zstd -d agree, every size", arguments: [0, 1, 65536, 1 << 20, (1 << 20) + 17])
    func roundTrip(size: Int) throws {
        let content = TestData.logText(size)
        let compressed = try ZstdEncoder.compress(content)
        #expect(try ZstdDecoder.decompress(compressed) == content)
        #expect(try Tool.output("zstd", ["-dc"], input: compressed) == content)
    }

    @Test("levels, single-threaded and long mode", arguments: [
        ZstdOptions(level: 1), ZstdOptions(level: 3, workers: 0), ZstdOptions(level: 19), ZstdOptions(level: -5),
        ZstdOptions(level: 3, long: true),
    ])
    func options(options: ZstdOptions) throws {
        let content = TestData.logText(300_000)
        let compressed = try ZstdEncoder.compress(content, options: options)
        #expect(try Tool.output("zstd", ["-dc"], input: compressed) == content)
        #expect(try ZstdDecoder.decompress(compressed) == content)
    }

    @Test("levels out of range are refused")
    func badLevel() {
        #expect(throws: CodecError.self) { try ZstdEncoder(options: ZstdOptions(level: 99)) }
        #expect(throws: CodecError.self) { try ParallelGzipEncoder(options: GzipOptions(level: 10)) }
    }

    @Test("incompressible data")
    func incompressible() throws {
        let content = TestData.random(500_000)
        let compressed = try ZstdEncoder.compress(content)
        #expect(try Tool.output("zstd", ["-dc"], input: compressed) == content)
    }

    @Test("Ferry decodes what zstd writes, multi-frame, long mode, in small pieces")
    func decodesSystemTool() throws {
        let a = TestData.logText(400_000, seed: 5)
        let b = TestData.random(50_000)
        let one = try Tool.output("zstd", ["-3", "-c", "-T2"], input: a)
        let two = try Tool.output("zstd", ["-19", "-c", "--long=27"], input: b)
        #expect(try ZstdDecoder.decompress(one + two + one) == a + b + a)
        let decoder = try ZstdDecoder(chunkSize: 3000)
        var out: [UInt8] = []
        for start in stride(from: 0, to: one.count, by: 333) {
            try decoder.decompress(Array(one[start..<min(start + 333, one.count)]), into: &out)
        }
        try decoder.finish()
        #expect(out == a)
    }

    @Test("frames end where the caller asks")
    func callerFrames() throws {
        let encoder = try ZstdEncoder()
        let parts = [TestData.logText(10, seed: 1), TestData.logText(200_000, seed: 2)]
        var frames: [[UInt8]] = []
        var current: [UInt8] = []
        let emit: (Chunk) -> Void = { chunk in
            current += chunk.bytes
            if chunk.endsFrame {
                frames.append(current)
                current = []
            }
        }
        for part in parts {
            try encoder.encode(part, emit: emit)
            try encoder.endFrame(emit: emit)
        }
        try encoder.finish(emit: emit)
        #expect(frames.count == 2)
        #expect(encoder.frames == 2)
        for (frame, part) in zip(frames, parts) {
            #expect(try Tool.output("zstd", ["-dc"], input: frame) == part)
        }
    }

    @Test("corrupt streams fail with a clear CodecError")
    func corrupt() throws {
        let content = TestData.logText(300_000)
        let good = try ZstdEncoder.compress(content)

        func failure(_ bytes: [UInt8]) -> CodecError? {
            do {
                _ = try ZstdDecoder.decompress(bytes)
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
        #expect(bad.message.contains("zstd stream is corrupt"))

        var badChecksum = good
        badChecksum[good.count - 1] ^= 0x01
        #expect(failure(badChecksum)?.code == .corruptData)

        #expect(failure(Array(good.prefix(good.count - 10)))?.code == .truncated)
        #expect(failure([])?.code == .truncated)
        #expect(failure(Array("not zstd at all".utf8))?.message.contains("not a zstd stream") == true)
        #expect(failure(good + [1, 2, 3, 4, 5, 6])?.code == .corruptData)
    }
}

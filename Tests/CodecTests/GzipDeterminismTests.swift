import Codec
import Testing

/// Ferry compresses a docker archive's uncompressed layers twice (once for the digest, once for the upload) and
/// relies on getting the same bytes: the parallel gzip encoder must not depend on how its input was chunked.
@Suite struct GzipDeterminismTests {
    @Test("the parallel gzip pipeline gives identical output for identical input, whatever the source chunking")
    func deterministic() async throws {
        var bytes = TestData.random(3_000_000, seed: 31).map { $0 & 7 }
        bytes += [UInt8](repeating: 42, count: 500_000)
        let pipeline = Pipeline(decoding: .none, encoding: .gzip(GzipOptions()), hashes: [.content, .output])
        let a = try await pipeline.run(from: MemorySource(bytes, chunkSize: 1 << 20), to: DiscardSink())
        let sink = MemorySink()
        let b = try await pipeline.run(from: MemorySource(bytes, chunkSize: 65_537), to: sink)
        #expect(a.output == b.output)
        #expect(a.content == b.content)
        #expect(Int64(sink.bytes.count) == b.output.size)
        #expect(a.output.size < Int64(bytes.count), "it did compress")
    }
}

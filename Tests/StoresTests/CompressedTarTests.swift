import Codec
import Foundation
import Stores
import TestSupport
import Testing

/// The frame index of compressed bundles and the reader over it, on files built here frame by frame.
@Suite struct CompressedTarTests {
    /// A tar of `members`, compressed one frame per member (and per `frameSize` bytes), with the index appended.
    static func bundle(_ format: CompressionFormat, members: [(String, [UInt8])], frameSize: Int = 1 << 16, at path: String) throws -> FrameIndex {
        var tar: [[UInt8]] = []
        for (name, content) in members {
            let h = TarHeader(name: name, size: Int64(content.count))
            tar.append(h.encode())
            var data = content + [UInt8](repeating: 0, count: Int(h.paddedSize) - content.count)
            while !data.isEmpty {
                tar.append(Array(data.prefix(frameSize)))
                data.removeFirst(min(frameSize, data.count))
            }
        }
        tar.append([UInt8](repeating: 0, count: 1024))
        var out: [UInt8] = []
        var index = FrameIndex()
        var content: Int64 = 0
        for piece in tar {
            let frame = format == .zstd ? try ZstdEncoder.compress(piece) : try ParallelGzipEncoder.compress(piece)
            out += frame
            content += Int64(piece.count)
            index.append(FrameBoundary(contentOffset: content, outputOffset: Int64(out.count)))
        }
        try Data(out + index.encoded(format)).write(to: URL(fileURLWithPath: path))
        return index
    }

    @Test("the index reads back as written; members list by jumping and read at random", arguments: [CompressionFormat.zstd, .gzip])
    func roundTrip(_ format: CompressionFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/b.tar.x"
        var rng = SystemRandomNumberGenerator()
        let big = (0..<(600 << 10)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let written = try Self.bundle(format, members: [("index.json", Array("{}".utf8)), ("blobs/sha256/big", big), ("tail", [1, 2, 3])], at: path)
        let file = try CompressedTarFile(path: path)
        #expect(file.index == written)
        let entries = try TarReader.entries(size: written.contentSize, path: path) { o, c throws(StoreError) in
            do { return try file.read(at: o, count: c) } catch { throw StoreError(.corrupt, "\(error)") }
        }
        #expect(entries.map(\.name) == ["index.json", "blobs/sha256/big", "tail"])
        let middle = entries[1].dataOffset + 300_000
        #expect(try file.read(at: middle, count: 1000) == Array(big[300_000..<301_000]))

        // The sequential parser sees the same members and hashes them.
        var parser = TarStreamParser(path: path, hashing: true)
        try file.scan { try parser.feed($0) }
        try parser.finish()
        #expect(parser.members.map(\.entry) == entries)
        #expect(parser.members[1].sha256 == SHA256.hexDigest(big))
        #expect(parser.members[0].content == Array("{}".utf8))
    }

    @Test("a gzip index of more frames than one member holds is split over several members and reads back")
    func manyFrames() throws {
        var index = FrameIndex()
        for i in 1...20_000 { index.append(FrameBoundary(contentOffset: Int64(i) * 512, outputOffset: Int64(i) * 40)) }
        let dir = try TemporaryDirectory()
        let path = dir.path + "/i.gz"
        // Frame bytes are never decoded here: only the index is read back.
        try Data([UInt8](repeating: 0x1f, count: Int(index.dataSize)) + index.encoded(.gzip)).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let size = Int64((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        #expect(try FrameIndex.read(fd, fileSize: size, format: .gzip, path: path) == index)
        // The decompressed stream of the index members is empty: gzip -d yields exactly the frames' content.
        #expect(try GzipDecoder.decompress(index.encoded(.gzip)).isEmpty)
        #expect(try ZstdDecoder.decompress(index.encoded(.zstd)).isEmpty)
    }
}

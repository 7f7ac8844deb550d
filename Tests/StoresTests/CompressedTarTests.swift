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
        let big = randomBytes(600 << 10, seed: 39)
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

    // MARK: hostile indexes

    /// A sparse file of `size` bytes ending in `tail` (with `head` at `headAt`, when given): what a crafted index
    /// looks like to the reader, without the disk it claims.
    static func sparse(_ path: String, size: Int64, tail: [UInt8], head: (Int64, [UInt8])? = nil) throws {
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(ftruncate(fd, off_t(size)) == 0)
        if let (at, bytes) = head { try #require(pwrite(fd, bytes, bytes.count, off_t(at)) == bytes.count) }
        try #require(pwrite(fd, tail, tail.count, off_t(size - Int64(tail.count))) == tail.count)
    }

    /// Reads the index of `path` and returns the error it is refused with (a trap or an exhausted memory fails the run).
    static func refusal(_ path: String, _ format: CompressionFormat) -> StoreError? {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        do {
            _ = try FrameIndex.read(fd, fileSize: Int64(st.st_size), format: format, path: path)
            return nil
        } catch { return error }
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test("a gzip footer whose Index_Size is 2^63 or more is refused as corrupt, not trapped on")
    func gzipHugeIndexSize() throws {
        let dir = try TemporaryDirectory()
        var index = FrameIndex()
        index.append(FrameBoundary(contentOffset: 1024, outputOffset: 100))
        for claimed in [UInt64.max, UInt64(1) << 63, UInt64(Int64.max)] {
            var encoded = index.encoded(.gzip)
            let footer = encoded.count - 42
            encoded.replaceSubrange((footer + 16)..<(footer + 24), with: Self.le(claimed))
            let path = dir.path + "/huge-\(claimed).tar.gz"
            try Data([UInt8](repeating: 7, count: 100) + encoded).write(to: URL(fileURLWithPath: path))
            let error = try #require(Self.refusal(path, .gzip), "Index_Size \(claimed) was accepted")
            #expect(error.code == .corrupt)
            #expect(error.message.contains("frame index"), "\(error)")
        }
    }

    @Test("a frame count of 2^32 - 1 in a sparse 40 GB file is refused before the table is read", arguments: [CompressionFormat.zstd, .gzip])
    func hugeFrameCount(_ format: CompressionFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/count.tar.x"
        let count = UInt32.max
        let size: Int64 = 40 << 30
        switch format {
        case .zstd:
            try Self.sparse(path, size: size, tail: Self.le(count) + [0] + Self.le(UInt32(0x8F92_EAB1)))
        case .gzip:
            // An Index_Size that matches the count exactly, so only the count's bound refuses it.
            let members = (UInt64(count) + 7999) / 8000
            let claimed = UInt64(count) * 8 + members * 26
            var footer: [UInt8] = [0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 255] + Self.le(UInt16(20)) + [0x46, 0x65] + Self.le(UInt16(16))
            footer += Self.le(claimed) + Self.le(count) + Self.le(UInt32(0x8F92_EAB1)) + [0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
            #expect(footer.count == 42)
            try Self.sparse(path, size: size, tail: footer)
        }
        let error = try #require(Self.refusal(path, format))
        #expect(error.code == .corrupt)
        #expect(error.message.contains("\(count) frames"), "\(error)")
    }

    @Test("a table of the largest allowed count that is all zeros fails at its first entry")
    func zeroTable() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/zeros.tar.zst"
        let count = FrameIndex.maxFrames
        let table = Int64(8 + count * 8 + 9)
        let size = table + (1 << 20)
        try Self.sparse(
            path, size: size, tail: Self.le(UInt32(count)) + [0] + Self.le(UInt32(0x8F92_EAB1)),
            head: (size - table, Self.le(UInt32(0x184D_2A5E)) + Self.le(UInt32(table - 8))))
        let error = try #require(Self.refusal(path, .zstd))
        #expect(error.code == .corrupt)
        #expect(error.message.contains("frame 0 of the index is empty"), "\(error)")
        // One over the bound is refused by its count.
        try Self.sparse(path, size: size + 8, tail: Self.le(UInt32(count + 1)) + [0] + Self.le(UInt32(0x8F92_EAB1)))
        #expect(Self.refusal(path, .zstd)?.message.contains("more than a frame index may list") == true)
    }
}

import Codec
import Glibc

/// Where each independent zstd frame / gzip member of a compressed bundle starts, in the compressed file and in the
/// tar it decompresses to: the trailing index that lets a reader seek (docs/bundle-format.md).
///
/// zstd: the zstd seekable format (a skippable frame, magic 0x184D2A5E, entries of compressed and decompressed size,
/// footer magic 0x8F92EAB1), which `zstd -d` skips and other seekable readers understand. gzip: empty gzip members whose
/// FEXTRA field carries the same entries (subfield `Fi`), then a fixed 42-byte footer member (subfield `Fe`), so
/// `gzip -d` yields exactly the tar.
public struct FrameIndex: Sendable, Hashable {
    public struct Frame: Sendable, Hashable {
        public var contentOffset: Int64
        public var contentSize: Int64
        public var outputOffset: Int64
        public var outputSize: Int64
    }

    public private(set) var frames: [Frame] = []

    /// The tar's size: the sum of the frames' decompressed sizes.
    public var contentSize: Int64 { self.frames.last.map { $0.contentOffset + $0.contentSize } ?? 0 }
    /// Compressed bytes of the frames, i.e. where the index starts.
    public var dataSize: Int64 { self.frames.last.map { $0.outputOffset + $0.outputSize } ?? 0 }

    /// The largest frame either way; the writer keeps frames far below it (the seekable format's 1 GiB limit).
    public static let maxFrameSize: Int64 = 1 << 30
    static let zstdSkippableMagic: UInt32 = 0x184D_2A5E
    static let seekableMagic: UInt32 = 0x8F92_EAB1
    static let gzipFooterSize = 42
    static let gzipEntriesPerMember = 8000

    public init() {}

    /// From frame ends as the pipeline reports them (cumulative offsets, in order).
    public init(ends: [FrameBoundary]) {
        for end in ends { self.append(end) }
    }

    public mutating func append(_ end: FrameBoundary) {
        let c = self.contentSize, o = self.dataSize
        self.frames.append(Frame(contentOffset: c, contentSize: end.contentOffset - c, outputOffset: o, outputSize: end.outputOffset - o))
    }

    /// The frame holding content byte `offset`, by binary search.
    public func frame(containing offset: Int64) -> Frame? {
        var low = 0, high = self.frames.count
        while low < high {
            let mid = (low + high) / 2
            let f = self.frames[mid]
            if offset < f.contentOffset { high = mid } else if offset >= f.contentOffset + f.contentSize { low = mid + 1 } else { return f }
        }
        return nil
    }

    // MARK: writing

    /// The index as appended after the last frame.
    public func encoded(_ format: CompressionFormat) -> [UInt8] {
        switch format {
        case .zstd:
            var out: [UInt8] = []
            out.appendLE(Self.zstdSkippableMagic)
            out.appendLE(UInt32(self.frames.count * 8 + 9))
            for f in self.frames {
                out.appendLE(UInt32(f.outputSize))
                out.appendLE(UInt32(f.contentSize))
            }
            out.appendLE(UInt32(self.frames.count))
            out.append(0)  // descriptor: no checksums
            out.appendLE(Self.seekableMagic)
            return out
        case .gzip:
            var out: [UInt8] = []
            var start = 0
            repeat {
                let part = self.frames[start..<min(self.frames.count, start + Self.gzipEntriesPerMember)]
                var data: [UInt8] = []
                for f in part {
                    data.appendLE(UInt32(f.outputSize))
                    data.appendLE(UInt32(f.contentSize))
                }
                out += Self.emptyGzipMember(subfield: (0x46, 0x69), data: data)  // "Fi"
                start += Self.gzipEntriesPerMember
            } while start < self.frames.count
            var footer: [UInt8] = []
            footer.appendLE(UInt64(out.count))
            footer.appendLE(UInt32(self.frames.count))
            footer.appendLE(Self.seekableMagic)
            return out + Self.emptyGzipMember(subfield: (0x46, 0x65), data: footer)  // "Fe"
        }
    }

    /// A gzip member of no content whose header carries one FEXTRA subfield (RFC 1952 §2.3.1.1).
    static func emptyGzipMember(subfield: (UInt8, UInt8), data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 255]
        out.appendLE(UInt16(data.count + 4))
        out += [subfield.0, subfield.1]
        out.appendLE(UInt16(data.count))
        out += data
        // An empty final fixed-Huffman block, then CRC-32 and ISIZE of nothing.
        out += [0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        return out
    }

    // MARK: reading

    /// The most frames an index may list. A real bundle has one frame per member and per 4 MiB of member data, so
    /// this is a 64 TiB bundle; the bound keeps a crafted count (up to 2^32 in the footer of a sparse file) from
    /// making a reader read gigabytes of table and build billions of frames.
    public static let maxFrames = 1 << 24
    /// Entries read from the file at once: the table is read in pieces this size, never whole.
    static let entriesPerRead = 1 << 16

    /// The index at the end of the file, `nil` when the file ends without one (a foreign archive, read
    /// sequentially). Throws when it ends with an index that cannot be true: entries that do not add up to the file,
    /// frames out of range, counts larger than the file could hold.
    public static func read(_ fd: Int32, fileSize: Int64, format: CompressionFormat, path: String) throws(StoreError) -> FrameIndex? {
        switch format {
        case .zstd: try self.readZstd(fd, fileSize: fileSize, path: path)
        case .gzip: try self.readGzip(fd, fileSize: fileSize, path: path)
        }
    }

    private static func readZstd(_ fd: Int32, fileSize: Int64, path: String) throws(StoreError) -> FrameIndex? {
        guard fileSize >= 17 else { return nil }
        let footer = try TarReader.read(fd, at: fileSize - 9, count: 9, path: path)
        guard footer.loadLE(UInt32.self, at: 5) == Self.seekableMagic else { return nil }
        let count = Int(footer.loadLE(UInt32.self, at: 0))
        let descriptor = footer[4]
        guard descriptor & 0x7c == 0 else { throw StoreError(.corrupt, "\(path): the zstd seek table uses reserved descriptor bits") }
        guard count <= Self.maxFrames else {
            throw StoreError(.corrupt, "\(path): the zstd seek table claims \(count) frames, more than a frame index may list (\(Self.maxFrames))")
        }
        let entrySize = descriptor & 0x80 != 0 ? 12 : 8
        // At most 2^24 entries of 12 bytes: no overflow.
        let tableSize = Int64(8 + count * entrySize + 9)
        guard tableSize <= fileSize else { throw StoreError(.corrupt, "\(path): the zstd seek table claims \(count) frames, more than the file holds") }
        let tableStart = fileSize - tableSize
        let header = try TarReader.read(fd, at: tableStart, count: 8, path: path)
        guard header.loadLE(UInt32.self, at: 0) == Self.zstdSkippableMagic, Int64(header.loadLE(UInt32.self, at: 4)) == tableSize - 8 else {
            throw StoreError(.corrupt, "\(path): the zstd seek table's frame header does not match its footer")
        }
        var index = FrameIndex()
        var done = 0
        while done < count {
            let n = min(count - done, Self.entriesPerRead)
            let piece = try TarReader.read(fd, at: tableStart + 8 + Int64(done * entrySize), count: n * entrySize, path: path)
            for i in 0..<n {
                let at = i * entrySize
                try index.appendChecked(
                    outputSize: piece.loadLE(UInt32.self, at: at), contentSize: piece.loadLE(UInt32.self, at: at + 4),
                    dataEnd: tableStart, path: path)
            }
            done += n
        }
        try index.check(dataEnd: tableStart, path: path)
        return index
    }

    private static func readGzip(_ fd: Int32, fileSize: Int64, path: String) throws(StoreError) -> FrameIndex? {
        let size = Int64(Self.gzipFooterSize)
        guard fileSize >= size else { return nil }
        let tail = try TarReader.read(fd, at: fileSize - size, count: Self.gzipFooterSize, path: path)
        guard Array(tail[0..<4]) == [0x1f, 0x8b, 8, 4], tail.loadLE(UInt16.self, at: 10) == 20, tail[12] == 0x46, tail[13] == 0x65,
            tail.loadLE(UInt16.self, at: 14) == 16, tail.loadLE(UInt32.self, at: 28) == Self.seekableMagic
        else { return nil }
        // Index_Size is a u64 of the file's choosing: compare it unsigned before it becomes an offset.
        let claimed = tail.loadLE(UInt64.self, at: 16)
        let count = Int(tail.loadLE(UInt32.self, at: 24))
        guard claimed <= UInt64(fileSize - size), count <= Self.maxFrames else {
            throw StoreError(.corrupt, "\(path): the gzip frame index claims \(count) frames in \(claimed) bytes, more than the file holds or a frame index may list")
        }
        let indexBytes = Int64(claimed)
        let members = (count + Self.gzipEntriesPerMember - 1) / Self.gzipEntriesPerMember
        // Each entry takes 8 bytes and each member 26 more: anything else is a lie.
        guard indexBytes == Int64(count * 8 + max(1, members) * 26) else {
            throw StoreError(.corrupt, "\(path): the gzip frame index claims \(count) frames in \(indexBytes) bytes, which cannot be")
        }
        let start = fileSize - size - indexBytes
        var index = FrameIndex()
        var at: Int64 = 0
        // One member at a time: each is at most 16 + 8 × 8000 + 10 bytes.
        while at < indexBytes {
            guard indexBytes - at >= 26 else { throw StoreError(.corrupt, "\(path): the gzip frame index is damaged") }
            let header = try TarReader.read(fd, at: start + at, count: 16, path: path)
            guard Array(header[0..<4]) == [0x1f, 0x8b, 8, 4], header[12] == 0x46, header[13] == 0x69 else {
                throw StoreError(.corrupt, "\(path): the gzip frame index is damaged")
            }
            let length = Int(header.loadLE(UInt16.self, at: 14))
            guard Int(header.loadLE(UInt16.self, at: 10)) == length + 4, length % 8 == 0, at + Int64(16 + length + 10) <= indexBytes else {
                throw StoreError(.corrupt, "\(path): the gzip frame index is damaged")
            }
            let entries = try TarReader.read(fd, at: start + at + 16, count: length, path: path)
            for e in stride(from: 0, to: length, by: 8) {
                try index.appendChecked(
                    outputSize: entries.loadLE(UInt32.self, at: e), contentSize: entries.loadLE(UInt32.self, at: e + 4),
                    dataEnd: start, path: path)
            }
            guard index.frames.count <= count else {
                throw StoreError(.corrupt, "\(path): the gzip frame index lists more frames than its footer's \(count)")
            }
            at += Int64(16 + length + 10)
        }
        guard index.frames.count == count else { throw StoreError(.corrupt, "\(path): the gzip frame index lists \(index.frames.count) frames, its footer \(count)") }
        try index.check(dataEnd: start, path: path)
        return index
    }

    /// Adds the next entry read from a file, refusing it as soon as it cannot be true, so that a table of zeros or
    /// of huge frames fails at its first bad entry instead of after all of them are built.
    private mutating func appendChecked(outputSize: UInt32, contentSize: UInt32, dataEnd: Int64, path: String) throws(StoreError) {
        let i = self.frames.count
        guard outputSize != 0, Int64(contentSize) <= Self.maxFrameSize else {
            throw StoreError(.corrupt, "\(path): frame \(i) of the index is \(outputSize == 0 ? "empty" : "larger than 1 GiB")")
        }
        guard self.dataSize + Int64(outputSize) <= dataEnd else {
            throw StoreError(.corrupt, "\(path): frame \(i) of the index ends past the \(dataEnd) compressed bytes before the index")
        }
        self.append(FrameBoundary(contentOffset: self.contentSize + Int64(contentSize), outputOffset: self.dataSize + Int64(outputSize)))
    }

    /// Frames must tile the compressed bytes before the index exactly.
    private func check(dataEnd: Int64, path: String) throws(StoreError) {
        guard !self.frames.isEmpty else { throw StoreError(.corrupt, "\(path): the frame index lists no frames") }
        guard self.dataSize == dataEnd else {
            throw StoreError(.corrupt, "\(path): the frame index covers \(self.dataSize) compressed bytes, but \(dataEnd) come before it")
        }
    }
}

extension Array where Element == UInt8 {
    public mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    public func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(self[offset + i]) << (8 * i) }
        return v
    }
}

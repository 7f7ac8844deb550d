import Codec
import Glibc
import Synchronization

/// A `.tar.zst` / `.tar.gz` read without an uncompressed copy: with a frame index (Ferry's bundles, any zstd
/// seekable file) at random, decoding from the frame that holds an offset; without one (`docker save | gzip`,
/// `tar | zstd`) only in order, from the start.
public final class CompressedTarFile: Sendable {
    public let path: String
    public let format: CompressionFormat
    public let index: FrameIndex?
    public let fileSize: Int64
    private let counters = Mutex<Int64>(0)

    /// The format a file's first bytes announce, or nil for anything else (a plain tar).
    public static func format(of path: String, at offset: Int64 = 0, size: Int64? = nil) -> CompressionFormat? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return self.format(of: fd, at: offset, size: size)
    }

    private static func format(of fd: Int32, at offset: Int64, size: Int64?) -> CompressionFormat? {
        var magic = [UInt8](repeating: 0, count: Int(min(Int64(CompressionFormat.magicLength), size ?? Int64.max)))
        let n = magic.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        return n > 0 ? CompressionFormat.detect(magic.prefix(n)) : nil
    }

    public init(path: String) throws(StoreError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.notFound, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        self.fileSize = Int64(st.st_size)
        guard let format = Self.format(of: fd, at: 0, size: nil) else {
            throw StoreError(.corrupt, "\(path) is neither gzip nor zstd compressed")
        }
        self.format = format
        self.index = try FrameIndex.read(fd, fileSize: self.fileSize, format: format, path: path)
    }

    /// Compressed bytes read so far by `read` and `scan`: how far from the start a random read had to decode.
    public var compressedBytesRead: Int64 { self.counters.withLock { $0 } }

    /// Content bytes `[offset, offset + count)`, handed to `body` in pieces as they are decoded.
    public func read(from offset: Int64, count: Int64, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard count > 0 else { return }
        var content: Int64 = 0
        var input: Int64 = 0
        if let index = self.index {
            guard let frame = index.frame(containing: offset), offset + count <= index.contentSize else {
                throw StoreError(.corrupt, "\(self.path): bytes \(offset)..<\(offset + count) are past the end of the archive's content")
            }
            content = frame.contentOffset
            input = frame.outputOffset
        }
        let end = offset + count
        let limit = self.index?.dataSize ?? self.fileSize
        struct Enough: Error {}
        try self.withFile { fd in
            var buffer = [UInt8](repeating: 0, count: 256 << 10)
            do {
                try self.decode(fd, from: input, to: limit, with: try self.makeDecoder(), buffer: &buffer) { piece in
                    let start = content
                    content += Int64(piece.count)
                    let from = max(start, offset), to = min(content, end)
                    if from < to {
                        try piece.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(from - start)..<Int(to - start)])) }
                    }
                    if content >= end { throw Enough() }
                }
                throw StoreError(.corrupt, "\(self.path) is truncated: the compressed stream ends at content byte \(content), before byte \(end)")
            } catch is Enough {}
        }
    }

    /// `count` content bytes from `offset`.
    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try self.read(from: offset, count: Int64(count)) { out.append(contentsOf: $0) }
        guard out.count == count else { throw StoreError(.corrupt, "\(self.path) is truncated at content byte \(offset)") }
        return out
    }

    /// Decodes everything once, in order, handing `body` each piece of content. With an index each frame is decoded
    /// alone and must end where the index says and decompress to the size it says (a lying index is refused here).
    public func scan(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try self.withFile { fd in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            let frames = self.index?.frames ?? [FrameIndex.Frame(contentOffset: 0, contentSize: -1, outputOffset: 0, outputSize: self.fileSize)]
            for (i, frame) in frames.enumerated() {
                let decoder = try self.makeDecoder()
                var produced: Int64 = 0
                let place = self.index == nil ? nil : i
                try self.decode(fd, from: frame.outputOffset, to: frame.outputOffset + frame.outputSize, with: decoder, buffer: &buffer, frame: place) { piece in
                    produced += Int64(piece.count)
                    if frame.contentSize >= 0 && produced > frame.contentSize {
                        throw StoreError(.corrupt, "\(self.path): frame \(i) decompresses to more than the \(frame.contentSize) bytes its index entry says")
                    }
                    try piece.withUnsafeBytes { try body($0) }
                }
                try self.decoding(frame: place, at: frame.outputOffset) { try decoder.finish() }
                if frame.contentSize >= 0 && produced != frame.contentSize {
                    throw StoreError(.corrupt, "\(self.path): frame \(i) decompresses to \(produced) bytes, its index entry says \(frame.contentSize)")
                }
            }
        }
    }

    /// Feeds the compressed bytes `[from, to)` of the file through `decoder`, handing `piece` each decoded piece; the
    /// one decode loop of `read` and `scan`, reading through `buffer` (one per call of those, not per frame).
    /// `frame` (and `from`) name the place in codec errors.
    private func decode(
        _ fd: Int32, from: Int64, to end: Int64, with decoder: any StreamDecoder, buffer: inout [UInt8], frame: Int? = nil,
        _ piece: ([UInt8]) throws -> Void
    ) throws {
        var input = from
        while input < end {
            let n = try self.pread(fd, &buffer, at: input, count: Int(min(Int64(buffer.count), end - input)))
            input += Int64(n)
            try self.decoding(frame: frame, at: from) {
                try buffer.withUnsafeBytes { raw in
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<n]), emit: piece)
                }
            }
        }
    }

    private func makeDecoder() throws -> any StreamDecoder {
        switch self.format {
        case .gzip: GzipDecoder(chunkSize: 256 << 10)
        case .zstd: try ZstdDecoder(chunkSize: 256 << 10)
        }
    }

    /// Codec errors name the compressed offset; say which file too.
    private func decoding(frame: Int? = nil, at offset: Int64 = 0, _ body: () throws -> Void) throws {
        do { try body() } catch let e as CodecError {
            // A frame's decoder counts from the frame's start: say where that is.
            let place = frame.map { "frame \($0) (from compressed byte \(offset)): " } ?? ""
            throw StoreError(.corrupt, "\(self.path): \(place)\(e.message)")
        }
    }

    private func pread(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int64, count: Int) throws(StoreError) -> Int {
        let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
        guard n > 0 else { throw StoreError(.corrupt, "\(self.path) is truncated at compressed byte \(offset)") }
        self.counters.withLock { $0 += Int64(n) }
        return n
    }

    private func withFile<T>(_ body: (Int32) throws -> T) throws -> T {
        let fd = open(self.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "cannot open \(self.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        return try body(fd)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Where a pipeline's bytes come from. `next()` runs on the pipeline's read thread and may block.
///
/// Ferry's sources: `FileSource` (a blob or tar on disk), `MemorySource` (tests, small data) and `ByteChannel`
/// (bytes pushed from async code, such as a download in progress). A chunk with `endsFrame` asks the encoder to
/// end its member/frame after it.
public protocol ByteSource: Sendable {
    /// The next piece of the stream, or `nil` at its end.
    mutating func next() throws -> Chunk?

    /// Called from another thread when the pipeline fails or is cancelled, to wake a `next()` that could block
    /// indefinitely. Sources that never block for long need not implement it.
    func interrupt(with error: any Error)
}

extension ByteSource {
    public func interrupt(with error: any Error) {}
}

/// A file read sequentially in chunks. The descriptor is closed at the end of the stream or when the source is
/// released. One reader at a time.
public final class FileSource: ByteSource, @unchecked Sendable {
    public let path: String
    public let chunkSize: Int
    private var fd: Int32
    /// Bytes left to read when the source is a region of the file (a blob inside a bundle tar).
    private var remaining: Int64?

    /// Opens `path` for reading, from `offset` and for `length` bytes when given (else to the end).
    /// - Throws: `CodecError.Code.io` if it cannot be opened or positioned.
    public init(path: String, offset: Int64 = 0, length: Int64? = nil, chunkSize: Int = 1 << 20) throws {
        precondition(chunkSize > 0, "chunkSize must be positive")
        self.path = path
        self.chunkSize = chunkSize
        self.remaining = length
        self.fd = try FileDescriptorIO.openFile(path, flags: O_RDONLY)
        if offset > 0 { try FileDescriptorIO.seek(self.fd, to: offset, what: path) }
        #if os(Linux)
        _ = posix_fadvise(self.fd, off_t(offset), off_t(length ?? 0), POSIX_FADV_SEQUENTIAL)
        #endif
    }

    deinit {
        if self.fd >= 0 { _ = try? FileDescriptorIO.closeFile(self.fd, what: self.path) }
    }

    public func next() throws -> Chunk? {
        guard self.fd >= 0 else { return nil }
        let count = self.remaining.map { Int(min(Int64(self.chunkSize), $0)) } ?? self.chunkSize
        let bytes = count == 0 ? [] : try FileDescriptorIO.readChunk(self.fd, count: count, what: self.path)
        if bytes.isEmpty {
            try FileDescriptorIO.closeFile(self.fd, what: self.path)
            self.fd = -1
            // A region cut short means the file is shorter than its descriptor says.
            if let left = self.remaining, left > 0 { throw CodecError(.truncated, "\(self.path) is truncated: it ends \(left) bytes before the region read") }
            return nil
        }
        self.remaining? -= Int64(bytes.count)
        return Chunk(bytes)
    }
}

/// Bytes already in memory, handed out in chunks.
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private let chunkSize: Int
    private var offset = 0

    public init(_ bytes: [UInt8], chunkSize: Int = 1 << 20) {
        precondition(chunkSize > 0, "chunkSize must be positive")
        self.bytes = bytes
        self.chunkSize = chunkSize
    }

    public mutating func next() -> Chunk? {
        guard self.offset < self.bytes.count else { return nil }
        let end = min(self.offset + self.chunkSize, self.bytes.count)
        defer { self.offset = end }
        return Chunk(Array(self.bytes[self.offset..<end]))
    }
}

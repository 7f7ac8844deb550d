#if canImport(Glibc)
import Glibc
#endif

/// Where a pipeline's output goes. `write` and `finish` run on the pipeline's write thread and may block.
///
/// A failed or cancelled pipeline never calls `finish`: a sink writing a file should write to a temporary path that
/// the caller renames only after checking the digests (nothing unverified at a final path).
public protocol ByteSink: Sendable {
    mutating func write(_ chunk: Chunk) throws

    /// The stream is complete (flush, sync, close).
    mutating func finish() throws

    /// A frame (gzip member, zstd frame) ended with the chunk just written: where, in this run's content and output.
    mutating func frameEnded(_ boundary: FrameBoundary) throws

    /// Called from another thread when the pipeline fails or is cancelled, to wake a `write` that could block
    /// indefinitely. Sinks that never block for long need not implement it.
    func interrupt(with error: any Error)
}

extension ByteSink {
    public func finish() throws {}
    public func frameEnded(_ boundary: FrameBoundary) throws {}
    public func interrupt(with error: any Error) {}
}

/// A file written from the start (created or truncated). `sync` asks for `fdatasync` before the close.
public final class FileSink: ByteSink, @unchecked Sendable {
    public let path: String
    private let sync: Bool
    private let closes: Bool
    private var fd: Int32

    /// Creates or truncates `path` (mode 0644).
    public init(path: String, sync: Bool = false) throws {
        self.path = path
        self.sync = sync
        self.closes = true
        self.fd = try FileDescriptorIO.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
    }

    /// Writes to an open descriptor (such as standard output), which is closed at the end only if `closeWhenDone`.
    public init(descriptor: Int32, closeWhenDone: Bool, name: String = "output") {
        self.path = name
        self.sync = false
        self.closes = closeWhenDone
        self.fd = descriptor
    }

    deinit {
        if self.fd >= 0 && self.closes { _ = try? FileDescriptorIO.closeFile(self.fd, what: self.path) }
    }

    public func write(_ chunk: Chunk) throws {
        precondition(self.fd >= 0, "FileSink written after finish")
        try chunk.bytes.withUnsafeBytes { try FileDescriptorIO.writeAll(self.fd, $0, what: self.path) }
    }

    public func finish() throws {
        guard self.fd >= 0 else { return }
        if self.sync { try FileDescriptorIO.syncData(self.fd, what: self.path) }
        let fd = self.fd
        self.fd = -1
        if self.closes { try FileDescriptorIO.closeFile(fd, what: self.path) }
    }
}

/// Collects the output in memory (tests, manifests, small blobs).
public final class MemorySink: ByteSink, Sendable {
    private let storage = ConditionLock<(bytes: [UInt8], chunks: [Chunk])>(([], []))
    private let keepChunks: Bool

    /// - Parameter keepChunks: also keep the chunks as written (to look at frame ends).
    public init(keepChunks: Bool = false) {
        self.keepChunks = keepChunks
    }

    /// Everything written so far.
    public var bytes: [UInt8] { self.storage.withLock { $0.bytes } }

    /// The chunks as written, if `keepChunks`.
    public var chunks: [Chunk] { self.storage.withLock { $0.chunks } }

    public func write(_ chunk: Chunk) {
        self.storage.withLock { storage in
            storage.bytes.append(contentsOf: chunk.bytes)
            if self.keepChunks { storage.chunks.append(chunk) }
        }
    }
}

/// Drops the output: for verifying (digests only) and for measuring.
public struct DiscardSink: ByteSink {
    public init() {}
    public func write(_ chunk: Chunk) {}
}

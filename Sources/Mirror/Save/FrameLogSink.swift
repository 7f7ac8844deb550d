import Codec
import Glibc
import Stores
import Transfer

/// The compressed bundle's sink: appends frames to `BUNDLE.partial` and, in batches, makes them durable
/// (`fdatasync` of the data, then the frame log), deleting the staged blobs those frames complete.
final class FrameLogSink: ByteSink, @unchecked Sendable {
    // Used only by the pipeline's write thread.
    private let state: CompressedBundleState
    private let log: FrameLog
    private var fd: Int32
    private var logFd: Int32
    private var position: Int64
    /// Where this run started in content and output: the pipeline counts frame ends from there.
    private let start: FrameBoundary
    private var logOffset: Int64
    private var pending: [FrameBoundary] = []
    private var sinceSync: Int64 = 0
    private var lastSync = ContinuousClock.now

    /// Syncs after this many output bytes or this long, whichever comes first: what a power loss may cost.
    static let syncBytes: Int64 = 32 << 20
    static let syncInterval = Duration.milliseconds(500)

    init(state: CompressedBundleState, log: FrameLog, after frames: [FrameBoundary]) throws {
        self.state = state
        self.log = log
        self.position = frames.last?.outputOffset ?? 0
        self.start = frames.last ?? FrameBoundary(contentOffset: 0, outputOffset: 0)
        self.logOffset = Int64(frames.count * 16)
        self.fd = open(state.partial, O_WRONLY | O_CLOEXEC)
        self.logFd = open(state.framesPath, O_WRONLY | O_CLOEXEC)
        guard self.fd >= 0, self.logFd >= 0 else {
            throw MirrorError(.failed, "cannot open \(state.partial): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if self.fd >= 0 { close(self.fd) }
        if self.logFd >= 0 { close(self.logFd) }
    }

    func write(_ chunk: Chunk) throws {
        if !chunk.bytes.isEmpty {
            try writeAll(self.fd, chunk.bytes, at: self.position, path: self.state.partial)
            self.position += Int64(chunk.bytes.count)
            self.sinceSync += Int64(chunk.bytes.count)
        }
    }

    func frameEnded(_ boundary: FrameBoundary) throws {
        self.pending.append(FrameBoundary(
            contentOffset: self.start.contentOffset + boundary.contentOffset, outputOffset: self.start.outputOffset + boundary.outputOffset))
        if self.sinceSync >= Self.syncBytes || ContinuousClock.now - self.lastSync >= Self.syncInterval { try self.sync() }
    }

    func finish() throws {
        try self.sync()
        close(self.fd)
        close(self.logFd)
        self.fd = -1
        self.logFd = -1
    }

    private func sync() throws {
        self.sinceSync = 0
        self.lastSync = .now
        guard let last = self.pending.last else { return }
        guard fdatasync(self.fd) == 0 else { throw MirrorError(.failed, "cannot sync \(self.state.partial): \(String(cString: strerror(errno)))") }
        let record = CompressedBundleState.encode(self.pending)
        try writeAll(self.logFd, record, at: self.logOffset, path: self.state.framesPath)
        guard fdatasync(self.logFd) == 0 else { throw MirrorError(.failed, "cannot sync \(self.state.framesPath): \(String(cString: strerror(errno)))") }
        self.logOffset += Int64(record.count)
        self.pending = []
        for path in self.log.takeDurable(upTo: last.contentOffset) { unlink(path) }
    }
}

internal import CZstd

/// Streaming zstd compression on libzstd's own workers (`ZSTD_c_nbWorkers`), fed in pieces.
///
/// The workers come from one process-wide `ZSTD_threadPool` with a thread per core, shared by every encoder, so
/// concurrent streams don't oversubscribe the machine (the same rule as the gzip pool). Frames carry a content
/// checksum (XXH64), as the `zstd` CLI writes by default. A frame ends where the caller asks (`endFrame`,
/// `ZSTD_e_end`) and at `finish`. A class: it owns a `ZSTD_CCtx`, used by one thread at a time.
///
/// The corresponding C functions are `ZSTD_createCCtx`, `ZSTD_CCtx_setParameter`, `ZSTD_CCtx_refThreadPool`
/// and `ZSTD_compressStream2`.
public final class ZstdEncoder: StreamEncoder {
    public let options: ZstdOptions
    /// Uncompressed bytes taken so far.
    public private(set) var bytesIn: Int64 = 0
    /// Compressed bytes emitted so far.
    public private(set) var bytesOut: Int64 = 0
    /// Frames completed so far.
    public private(set) var frames = 0

    private let context: OpaquePointer
    private let scratch: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var bytesSinceFrameEnd = 0
    private var finished = false

    /// - Throws: `CodecError.Code.invalidArgument` when libzstd refuses a parameter (level out of range).
    public init(options: ZstdOptions = ZstdOptions()) throws {
        guard let context = ZSTD_createCCtx() else {
            throw CodecError(.library, "ZSTD_createCCtx failed: out of memory")
        }
        self.context = context
        self.options = options
        self.scratch = .allocate(byteCount: ZstdOptions.outputPiece, alignment: 64)
        guard (ZSTD_minCLevel()...ZSTD_maxCLevel()).contains(Int32(clamping: options.level)) else {
            throw CodecError(
                .invalidArgument, "zstd level must be \(ZSTD_minCLevel())...\(ZSTD_maxCLevel()), got \(options.level)")
        }
        try self.set(ZSTD_c_compressionLevel, options.level)
        try self.set(ZSTD_c_checksumFlag, 1)
        if options.long {
            try self.set(ZSTD_c_enableLongDistanceMatching, 1)
            try self.set(ZSTD_c_windowLog, options.longWindowLog)
        }
        let workers = options.workers ?? Threads.activeCores
        if workers > 0 {
            try self.set(ZSTD_c_nbWorkers, workers)
            guard ZSTD_isError(ZSTD_CCtx_refThreadPool(context, ZstdWorkers.shared.pool)) == 0 else {
                throw CodecError(.library, "ZSTD_CCtx_refThreadPool failed")
            }
        }
    }

    deinit {
        ZSTD_freeCCtx(self.context)
        self.scratch.deallocate()
    }

    /// One-shot convenience: `bytes` as one zstd frame.
    public static func compress(_ bytes: [UInt8], options: ZstdOptions = ZstdOptions()) throws -> [UInt8] {
        let encoder = try ZstdEncoder(options: options)
        var out: [UInt8] = []
        try encoder.compress(bytes, into: &out)
        try encoder.finish(into: &out)
        return out
    }

    public func encode(_ bytes: [UInt8], emit: (Chunk) throws -> Void) throws {
        try bytes.withUnsafeBytes { try self.encode($0, emit: emit) }
    }

    public func encode(_ bytes: UnsafeRawBufferPointer, emit: (Chunk) throws -> Void) throws {
        precondition(!self.finished, "ZstdEncoder used after finish")
        guard !bytes.isEmpty else { return }
        _ = try self.run(bytes, ZSTD_e_continue, emit: emit)
        self.bytesIn += Int64(bytes.count)
        self.bytesSinceFrameEnd += bytes.count
    }

    @discardableResult
    public func endFrame(emit: (Chunk) throws -> Void) throws -> Bool {
        precondition(!self.finished, "ZstdEncoder used after finish")
        guard self.bytesSinceFrameEnd > 0 else { return false }
        try self.endFrameNow(emit: emit)
        return true
    }

    public func finish(emit: (Chunk) throws -> Void) throws {
        precondition(!self.finished, "ZstdEncoder.finish called twice")
        if self.bytesSinceFrameEnd > 0 || self.frames == 0 {
            // An empty stream is still one valid (empty) frame.
            try self.endFrameNow(emit: emit)
        }
        self.finished = true
    }

    private func endFrameNow(emit: (Chunk) throws -> Void) throws {
        try self.run(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end, emit: emit)
        self.bytesSinceFrameEnd = 0
        self.frames += 1
    }

    /// Drives `ZSTD_compressStream2` until it has taken all of `input` (and, for `ZSTD_e_end`, flushed the frame).
    private func run(_ input: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective, emit: (Chunk) throws -> Void) throws {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var outBuffer = ZSTD_outBuffer(
                dst: self.scratch.baseAddress! + self.filled, size: self.scratch.count - self.filled, pos: 0)
            let remaining = ZSTD_compressStream2(self.context, &outBuffer, &inBuffer, directive)
            if ZSTD_isError(remaining) != 0 {
                throw CodecError(.library, "zstd compression failed: \(String(cString: ZSTD_getErrorName(remaining)))")
            }
            self.filled += outBuffer.pos
            let frameDone = directive == ZSTD_e_end && remaining == 0
            if self.filled == self.scratch.count || (frameDone && self.filled > 0) {
                let piece = [UInt8](UnsafeRawBufferPointer(start: self.scratch.baseAddress, count: self.filled))
                self.filled = 0
                self.bytesOut += Int64(piece.count)
                try emit(Chunk(piece, endsFrame: frameDone))
            }
            if frameDone { return }
            // ZSTD_e_continue: done once all input is taken; output not yet flushed stays inside libzstd.
            if directive == ZSTD_e_continue && inBuffer.pos == inBuffer.size { return }
        }
    }

    private func set(_ parameter: ZSTD_cParameter, _ value: Int) throws {
        let status = ZSTD_CCtx_setParameter(self.context, parameter, Int32(clamping: value))
        if ZSTD_isError(status) != 0 {
            throw CodecError(
                .invalidArgument,
                "zstd parameter \(parameter.rawValue) = \(value) refused: \(String(cString: ZSTD_getErrorName(status)))")
        }
    }
}

/// How the zstd encoder compresses.
public struct ZstdOptions: Sendable, Hashable {
    /// Compressed output is handed on in pieces of at most this size.
    static let outputPiece = 1 << 20

    /// zstd's level (1...19 usual, up to 22; negative for faster); 3 is the CLI's default.
    public var level: Int
    /// Long-distance matching with a `2^longWindowLog` window (`zstd --long`). Decoders need that much memory;
    /// 27 (128 MiB) is the most `zstd -d` and libzstd accept without being told.
    public var long: Bool
    public var longWindowLog: Int
    /// libzstd worker count; `nil` means one per active core, 0 compresses on the calling thread.
    public var workers: Int?

    public init(level: Int = 3, long: Bool = false, longWindowLog: Int = 27, workers: Int? = nil) {
        self.level = level
        self.long = long
        self.longWindowLog = longWindowLog
        self.workers = workers
    }
}

/// The one `ZSTD_threadPool` every `ZstdEncoder` shares; it lives as long as the process.
final class ZstdWorkers: @unchecked Sendable {
    static let shared = ZstdWorkers(count: Threads.activeCores)

    let pool: OpaquePointer

    private init(count: Int) {
        guard let pool = ZSTD_createThreadPool(count) else {
            preconditionFailure("ZSTD_createThreadPool(\(count)) failed")
        }
        self.pool = pool
    }
}

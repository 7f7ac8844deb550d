/// Parallel gzip: the input is cut into blocks, each compressed by libdeflate on the shared worker pool (one
/// thread per core) into an independent gzip member, and the members are emitted in order.
///
/// Why independent members and not one member with 32 KiB dictionaries (pigz): libdeflate, measured 2.7× faster
/// than zlib here, compresses whole buffers and cannot take a dictionary. Concatenated members are one valid gzip
/// file (RFC 1952 §2.2); `gzip -d`, Go's `compress/gzip` (containerd, Docker, the registry) and eStargz readers all
/// read them. At 1 MiB blocks the cost is ~20 bytes per member plus the lost 32 KiB of context at each block start:
/// on log-like text Ferry's level 6 still comes out ~4% smaller than `pigz -6`.
///
/// A member can also be ended where the caller asks (`endFrame`), so bundles can be written as independent frames.
/// At most `2 × workers` blocks are in flight per encoder; `encode` blocks while that window is full (backpressure).
/// Output chunks are whole members; the one that ends a requested frame has `endsFrame` set.
public final class ParallelGzipEncoder: StreamEncoder {
    public let options: GzipOptions

    /// Uncompressed bytes taken so far.
    public private(set) var bytesIn: Int64 = 0
    /// Compressed bytes emitted so far.
    public private(set) var bytesOut: Int64 = 0
    /// Gzip members emitted so far.
    public private(set) var members = 0

    private let workers = CompressionWorkers.shared
    private let window: Int
    private let results = ConditionLock<[Int: [UInt8]]>([:])
    private var pending: [UInt8] = []
    private var submitted = 0
    private var emitted = 0
    private var frameEnds: Set<Int> = []
    private var bytesSinceFrameEnd = 0
    private var finished = false

    /// - Parameter options: level 0 (stored) to 9, and the block size (64 KiB to 64 MiB).
    /// - Throws: `CodecError.Code.invalidArgument` for a level or block size out of range.
    public init(options: GzipOptions = GzipOptions()) throws {
        guard (0...9).contains(options.level) else {
            throw CodecError(.invalidArgument, "gzip level must be 0...9, got \(options.level)")
        }
        guard (64 << 10...64 << 20).contains(options.blockSize) else {
            throw CodecError(.invalidArgument, "gzip block size must be 64 KiB...64 MiB, got \(options.blockSize)")
        }
        self.options = options
        self.window = max(2, 2 * self.workers.count)
        self.pending.reserveCapacity(options.blockSize)
    }

    /// One-shot convenience: `bytes` as a (multi-member) gzip stream.
    public static func compress(_ bytes: [UInt8], options: GzipOptions = GzipOptions()) throws -> [UInt8] {
        let encoder = try ParallelGzipEncoder(options: options)
        var out: [UInt8] = []
        try encoder.compress(bytes, into: &out)
        try encoder.finish(into: &out)
        return out
    }

    public func encode(_ bytes: [UInt8], emit: (Chunk) throws -> Void) throws {
        precondition(!self.finished, "ParallelGzipEncoder used after finish")
        if self.pending.isEmpty && bytes.count == self.options.blockSize {
            // A whole block as it came from the source: no copy.
            self.bytesIn += Int64(bytes.count)
            self.bytesSinceFrameEnd += bytes.count
            self.submit(bytes, endsFrame: false)
            try self.drain(maxInFlight: self.window, emit: emit)
            return
        }
        try bytes.withUnsafeBytes { try self.encode($0, emit: emit) }
    }

    /// Compresses `bytes` (copied into the current block).
    public func encode(_ bytes: UnsafeRawBufferPointer, emit: (Chunk) throws -> Void) throws {
        precondition(!self.finished, "ParallelGzipEncoder used after finish")
        var offset = 0
        while offset < bytes.count {
            let take = min(self.options.blockSize - self.pending.count, bytes.count - offset)
            self.pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
            if self.pending.count == self.options.blockSize {
                self.submitPending(endsFrame: false)
                try self.drain(maxInFlight: self.window, emit: emit)
            }
        }
        self.bytesIn += Int64(bytes.count)
        self.bytesSinceFrameEnd += bytes.count
        try self.drain(maxInFlight: self.window, emit: emit)
    }

    @discardableResult
    public func endFrame(emit: (Chunk) throws -> Void) throws -> Bool {
        precondition(!self.finished, "ParallelGzipEncoder used after finish")
        guard self.bytesSinceFrameEnd > 0 else { return false }
        self.bytesSinceFrameEnd = 0
        if !self.pending.isEmpty {
            self.submitPending(endsFrame: true)
        } else if self.submitted > self.emitted {
            // The last full block ended exactly here.
            self.frameEnds.insert(self.submitted - 1)
        } else {
            // Everything before the boundary is already out: mark the boundary with an empty chunk.
            try emit(Chunk([], endsFrame: true))
            return true
        }
        try self.drain(maxInFlight: self.window, emit: emit)
        return true
    }

    public func finish(emit: (Chunk) throws -> Void) throws {
        precondition(!self.finished, "ParallelGzipEncoder.finish called twice")
        if self.submitted == 0 && self.pending.isEmpty {
            // An empty stream is still one valid (empty) member.
            self.submit([], endsFrame: true)
        } else {
            try self.endFrame(emit: emit)
        }
        try self.drain(maxInFlight: 0, emit: emit)
        self.finished = true
    }

    /// Appends the output of `bytes` to `output`.
    public func compress(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        try self.encode(bytes) { output.append(contentsOf: $0.bytes) }
    }

    /// Ends the current member at this point, appending finished output to `output`.
    public func endMember(into output: inout [UInt8]) throws {
        try self.endFrame { output.append(contentsOf: $0.bytes) }
    }

    // MARK: blocks

    private func submitPending(endsFrame: Bool) {
        let block = self.pending
        self.pending = []
        self.pending.reserveCapacity(self.options.blockSize)
        self.submit(block, endsFrame: endsFrame)
    }

    private func submit(_ block: [UInt8], endsFrame: Bool) {
        let sequence = self.submitted
        self.submitted += 1
        if endsFrame { self.frameEnds.insert(sequence) }
        let level = self.options.level
        let results = self.results
        self.workers.submit { compressors in
            let member = compressors.gzipMember(of: block, level: level)
            results.withLock { $0[sequence] = member }
            results.broadcast()
        }
    }

    /// Emits finished members in order; waits for the oldest while more than `maxInFlight` are outstanding.
    private func drain(maxInFlight: Int, emit: (Chunk) throws -> Void) throws {
        while self.emitted < self.submitted {
            let sequence = self.emitted
            let member: [UInt8]
            if self.submitted - self.emitted > maxInFlight {
                member = self.results.wait(until: { $0[sequence] != nil }) { $0.removeValue(forKey: sequence)! }
            } else if let ready = self.results.withLock({ $0.removeValue(forKey: sequence) }) {
                member = ready
            } else {
                return
            }
            self.emitted += 1
            self.members += 1
            self.bytesOut += Int64(member.count)
            try emit(Chunk(member, endsFrame: self.frameEnds.remove(sequence) != nil))
        }
    }
}

/// How the parallel gzip encoder compresses.
public struct GzipOptions: Sendable, Hashable {
    /// 1 (fastest) to 9 (smallest), as gzip's; 0 stores. Each level compresses at least as well as zlib's of the
    /// same number, with the fastest libdeflate level that does (`DeflateCompressors.libdeflateLevel`).
    public var level: Int
    /// Uncompressed bytes per block, i.e. per gzip member when no frame end is asked for. 1 MiB costs ~0.3% of
    /// size against 4 MiB on log-like text and keeps `2 × cores` blocks in flight within a few MB.
    public var blockSize: Int

    public init(level: Int = 6, blockSize: Int = 1 << 20) {
        self.level = level
        self.blockSize = blockSize
    }
}

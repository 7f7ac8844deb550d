internal import CZlib

/// A streaming gzip (RFC 1952) encoder over zlib's `deflate`: one gzip member, fed in pieces.
///
/// Level 0 writes stored deflate blocks (the bytes are copied, only CRC-32 is computed), which is what makes
/// multi-GB synthetic layers cheap to generate; levels 1-9 are zlib's usual trade-offs.
/// A class rather than a struct because it owns a `z_stream`, which zlib points into itself and which must be
/// released exactly once (`deflateEnd` in `deinit`); it is not `Sendable`: one owner feeds it.
///
/// The corresponding C functions are `deflateInit2`, `deflate` and `deflateEnd`.
public final class GzipEncoder {
    /// Output is produced in pieces of this size; big enough that a level-0 stream makes few deflate calls.
    private static let outputChunk = 256 * 1024

    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutableRawBufferPointer
    private var finished = false

    /// - Parameter level: zlib compression level, 0 (stored) to 9 (best).
    public init(level: Int) {
        precondition((0...9).contains(level), "gzip level must be 0...9, got \(level)")
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        // windowBits 15 + 16 asks zlib for a gzip wrapper instead of a zlib one; memLevel 8 is zlib's default.
        let status = CZlib_deflateInit2(self.stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else {
            // Only Z_MEM_ERROR is possible with these (valid) arguments.
            preconditionFailure("zlib deflateInit2 failed: \(status)")
        }
        self.scratch = .allocate(byteCount: Self.outputChunk, alignment: 16)
    }

    deinit {
        deflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
        self.scratch.deallocate()
    }

    /// Compresses `bytes` and appends whatever output zlib has ready to `output` (possibly nothing).
    public func compress(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        precondition(!self.finished, "GzipEncoder used after finish(into:)")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // avail_in is 32-bit: feed very large buffers in slices.
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, Int(UInt32.max / 2))
            self.stream.pointee.next_in = UnsafeMutablePointer(
                mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            self.stream.pointee.avail_in = uInt(count)
            self.drain(flush: Z_NO_FLUSH, into: &output)
            offset += count
        }
    }

    /// Convenience for byte arrays and other contiguous collections.
    public func compress(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        let done: Void? = bytes.withContiguousStorageIfAvailable {
            self.compress(UnsafeRawBufferPointer($0), into: &output)
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { self.compress($0, into: &output) }
        }
    }

    /// Ends the member: flushes the last deflate block and the gzip trailer (CRC-32, length) into `output`.
    /// The encoder cannot be used afterwards.
    public func finish(into output: inout [UInt8]) {
        precondition(!self.finished, "GzipEncoder.finish(into:) called twice")
        self.stream.pointee.next_in = nil
        self.stream.pointee.avail_in = 0
        self.drain(flush: Z_FINISH, into: &output)
        self.finished = true
    }

    /// Runs deflate until it has consumed all input (`Z_NO_FLUSH`) or ended the stream (`Z_FINISH`).
    private func drain(flush: Int32, into output: inout [UInt8]) {
        let out = self.scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
        while true {
            self.stream.pointee.next_out = out
            self.stream.pointee.avail_out = uInt(Self.outputChunk)
            let status = deflate(self.stream, flush)
            // Z_BUF_ERROR only means "no progress possible", which the loop conditions below already cover.
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                preconditionFailure("zlib deflate failed: \(status)")
            }
            let produced = Self.outputChunk - Int(self.stream.pointee.avail_out)
            if produced > 0 {
                output.append(contentsOf: UnsafeRawBufferPointer(start: out, count: produced))
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if self.stream.pointee.avail_in == 0 && self.stream.pointee.avail_out != 0 {
                return
            }
        }
    }
}

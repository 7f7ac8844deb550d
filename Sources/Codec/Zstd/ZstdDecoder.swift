internal import CZstd

/// Streaming zstd decompression, multi-frame aware (concatenated and skippable frames are one stream, as for
/// `zstd -d`). Frame checksums are verified when present. A class: it owns a `ZSTD_DCtx`, used by one thread at a
/// time. Decompression is sequential (libzstd has no parallel decoder); a pipeline overlaps it with hashing and I/O.
///
/// The corresponding C functions are `ZSTD_createDCtx`, `ZSTD_DCtx_setParameter` and `ZSTD_decompressStream`.
public final class ZstdDecoder: StreamDecoder {
    /// Output arrays are at most this large.
    public let chunkSize: Int
    /// Compressed bytes consumed so far.
    public private(set) var bytesIn: Int64 = 0
    /// Uncompressed bytes produced so far.
    public private(set) var bytesOut: Int64 = 0

    private let context: OpaquePointer
    private var inFrame = false
    private var framesCompleted = 0

    /// - Parameters:
    ///   - chunkSize: the largest output array.
    ///   - maxWindowLog: frames that need a larger window are refused (memory guard); 27 (128 MiB) is libzstd's
    ///     default and covers `--long`; 31 accepts anything `zstd --long=31` writes.
    public init(chunkSize: Int = 1 << 20, maxWindowLog: Int = 27) throws {
        precondition(chunkSize > 0, "chunkSize must be positive")
        guard let context = ZSTD_createDCtx() else {
            throw CodecError(.library, "ZSTD_createDCtx failed: out of memory")
        }
        self.context = context
        self.chunkSize = chunkSize
        let status = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Int32(clamping: maxWindowLog))
        if ZSTD_isError(status) != 0 {
            throw CodecError(.invalidArgument, "zstd maxWindowLog \(maxWindowLog) refused")
        }
    }

    deinit {
        ZSTD_freeDCtx(self.context)
    }

    /// One-shot convenience: the content of a (multi-frame) zstd stream.
    public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        let decoder = try ZstdDecoder()
        var out: [UInt8] = []
        try decoder.decompress(bytes, into: &out)
        try decoder.finish()
        return out
    }

    public func decode(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void) throws {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var full = false
            let output = try [UInt8](unsafeUninitializedCapacity: self.chunkSize) { buffer, count in
                var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                defer { count = outBuffer.pos }
                while outBuffer.pos < outBuffer.size {
                    let inBefore = inBuffer.pos
                    let outBefore = outBuffer.pos
                    let hint = ZSTD_decompressStream(self.context, &outBuffer, &inBuffer)
                    self.bytesIn += Int64(inBuffer.pos - inBefore)
                    if ZSTD_isError(hint) != 0 { throw self.error(hint) }
                    let progressed = inBuffer.pos > inBefore || outBuffer.pos > outBefore
                    if hint == 0 {
                        // A frame is complete and flushed.
                        if self.inFrame || progressed { self.framesCompleted += 1 }
                        self.inFrame = false
                    } else if progressed {
                        self.inFrame = true
                    }
                    // Output not full means libzstd took all the input it could and flushed all it had.
                    if outBuffer.pos < outBuffer.size && inBuffer.pos == inBuffer.size { return }
                    if inBuffer.pos == inBefore && outBuffer.pos == outBefore { return }
                }
                full = true
            }
            self.bytesOut += Int64(output.count)
            if !output.isEmpty { try emit(output) }
            if !full { return }
        }
    }

    public func finish() throws {
        if self.bytesIn == 0 {
            throw CodecError(.truncated, "empty input is not a zstd stream", offset: 0)
        }
        if self.inFrame {
            throw CodecError(
                .truncated,
                "zstd stream ends inside a frame after \(self.bytesIn) compressed bytes (truncated download or file?)",
                offset: self.bytesIn)
        }
    }

    private func error(_ code: Int) -> CodecError {
        let name = String(cString: ZSTD_getErrorName(code))
        switch ZSTD_getErrorCode(code) {
        case ZSTD_error_memory_allocation:
            return CodecError(.library, "zstd decompression ran out of memory", offset: self.bytesIn)
        case ZSTD_error_frameParameter_windowTooLarge:
            return CodecError(
                .corruptData,
                "zstd frame at compressed byte \(self.bytesIn) needs a window larger than allowed (\(name)); "
                    + "raise maxWindowLog if the data is trusted",
                offset: self.bytesIn)
        case ZSTD_error_prefix_unknown:
            let what = self.framesCompleted == 0 ? "not a zstd stream (bad magic)" : "data after the last zstd frame"
            return CodecError(.corruptData, "zstd stream is corrupt at compressed byte \(self.bytesIn): \(what)", offset: self.bytesIn)
        default:
            return CodecError(
                .corruptData, "zstd stream is corrupt at compressed byte \(self.bytesIn): \(name)", offset: self.bytesIn)
        }
    }
}

/// A compressor fed in pieces, whose output comes out as `Chunk`s in order.
///
/// `ParallelGzipEncoder` and `ZstdEncoder` conform; the pipeline's compress stage drives one, and a bundle
/// writer can drive one directly. Encoders are classes owned by one thread at a time (they hold C state and, for
/// gzip, blocks in flight on the worker pool); after `emit` throws, discard the encoder.
public protocol StreamEncoder: AnyObject {
    /// Compresses `bytes`; output that is ready is handed to `emit`, possibly none yet.
    func encode(_ bytes: [UInt8], emit: (Chunk) throws -> Void) throws

    /// Ends the current gzip member or zstd frame here: the chunk that completes it has `endsFrame` set.
    /// - Returns: `false`, doing nothing, when no byte was encoded since the last frame ended.
    @discardableResult
    func endFrame(emit: (Chunk) throws -> Void) throws -> Bool

    /// Ends the stream: everything is emitted, the last chunk ends a frame. An empty stream still makes one valid
    /// (empty) member or frame. The encoder cannot be used afterwards.
    func finish(emit: (Chunk) throws -> Void) throws
}

/// A decompressor fed in pieces; output comes out in arrays of at most the decoder's chunk size.
public protocol StreamDecoder: AnyObject {
    /// Decompresses all of `input`; output is handed to `emit` as it fills. Throws `CodecError` for corrupt data.
    func decode(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void) throws

    /// The input has ended: throws `CodecError.Code.truncated` if that was inside a member/frame (or before any).
    func finish() throws
}

extension StreamEncoder {
    /// Appends the output for `bytes` to `output` (the simple form, for small data and tests).
    public func compress(_ bytes: [UInt8], into output: inout [UInt8]) throws {
        try self.encode(bytes) { output.append(contentsOf: $0.bytes) }
    }

    /// Ends the stream, appending the rest of the output to `output`.
    public func finish(into output: inout [UInt8]) throws {
        try self.finish { output.append(contentsOf: $0.bytes) }
    }
}

extension StreamDecoder {
    /// Appends the output for `input` to `output`.
    public func decompress(_ input: [UInt8], into output: inout [UInt8]) throws {
        try input.withUnsafeBytes { raw in
            try self.decode(raw) { output.append(contentsOf: $0) }
        }
    }
}

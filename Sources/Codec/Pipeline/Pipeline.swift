// The pipeline: the one path every byte transform in Ferry takes (DESIGN.md §4, issue 4).
//
//   source ─▶ read ─▶ [decompress] ─▶ hash ─▶ [compress] ─▶ hash+write ─▶ sink
//             (input digest)        (content digest = DiffID)  (output digest)
//
// Each stage is a thread joined to the next by a bounded queue of chunks (≤ 1 MiB each, `queueDepth` deep), so both
// cores stay busy and memory stays flat whatever the blob size: a slow stage blocks the one before it. Gzip blocks
// are compressed on a process-wide pool of one thread per core (libdeflate), zstd on libzstd's workers from a
// shared pool of the same size, so many pipelines at once never oversubscribe the machine. An error in any stage,
// or cancelling the calling task, fails every queue: all stages stop, and `run` throws the first error
// (`CancellationError` when cancelled). Nothing is retried here.
//
// Public API (what Mirror jobs call):
//
//   let pipeline = Pipeline(decoding: .gzip, encoding: .zstd(ZstdOptions(level: 3)))
//   let result = try await pipeline.run(from: try FileSource(path: blob), to: try FileSink(path: temp))
//   result.input.digest    // sha256 of the bytes read (the source blob's digest, to verify)
//   result.content.digest  // sha256 of the uncompressed bytes (the layer's DiffID)
//   result.output.digest   // sha256 and size of what was written (the new blob's descriptor)
//
//   Pipeline(decoding: .none | .gzip | .zstd | .detect, encoding: .none | .gzip(GzipOptions) | .zstd(ZstdOptions))
//     .hashes: Pipeline.Hashes = .all        // which of input/content/output to sha256 (sizes always counted)
//     .chunkSize, .queueDepth                // memory: about (stages × queueDepth × chunkSize) plus codec windows
//     func run(from: some ByteSource, to: some ByteSink) async throws -> PipelineResult
//     func runBlocking(from: some ByteSource, to: some ByteSink) throws -> PipelineResult   // for plain threads
//   Sources: FileSource(path:chunkSize:), MemorySource(_:chunkSize:), ByteChannel (fed by `await send(_:endsFrame:)`)
//   Sinks:   FileSink(path:sync:), FileSink(descriptor:closeWhenDone:), MemorySink(), DiscardSink(),
//            ByteChannel (drained by `await receive()` / `for try await`)
//   Frames:  a source chunk with `endsFrame` ends the gzip member / zstd frame after it; `result.frames` lists
//            (contentOffset, outputOffset) for each frame end, for a bundle's frame index.
//
// The codecs are usable alone too: ParallelGzipEncoder, ZstdEncoder (StreamEncoder), GzipDecoder, ZstdDecoder
// (StreamDecoder), SHA256.

/// A configured transform: decode (or not), hash, encode (or not). A value; `run` may be called many times, also
/// concurrently.
public struct Pipeline: Sendable {
    /// What the input is.
    public enum Decoding: Sendable, Hashable {
        /// The input is the content.
        case none
        /// Gzip, one or more members.
        case gzip
        /// Zstd, one or more frames.
        case zstd
        /// Gzip or zstd by their magic bytes, else the content itself.
        case detect
    }

    /// What the output should be.
    public enum Encoding: Sendable, Hashable {
        /// The content itself.
        case none
        /// Parallel gzip (independent members; see `ParallelGzipEncoder`).
        case gzip(GzipOptions)
        /// Zstd on libzstd's workers.
        case zstd(ZstdOptions)

        /// A new encoder for this encoding, or `nil` for `.none`. For writers that drive an encoder themselves.
        public func makeEncoder() throws -> (any StreamEncoder)? {
            switch self {
            case .none: nil
            case .gzip(let options): try ParallelGzipEncoder(options: options)
            case .zstd(let options): try ZstdEncoder(options: options)
            }
        }
    }

    /// Which streams get a sha256. Hashing the content costs about one core-second per 2 GB; skip what no one needs.
    public struct Hashes: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// The bytes read from the source.
        public static let input = Hashes(rawValue: 1)
        /// The uncompressed bytes (a layer's DiffID).
        public static let content = Hashes(rawValue: 2)
        /// The bytes written to the sink.
        public static let output = Hashes(rawValue: 4)
        public static let all: Hashes = [.input, .content, .output]
    }

    public var decoding: Decoding
    public var encoding: Encoding
    public var hashes: Hashes
    /// The largest chunk a decoder hands on; sources choose their own chunk size.
    public var chunkSize: Int
    /// Chunks each queue between two stages holds before the producer blocks.
    public var queueDepth: Int
    /// Frames needing a larger zstd window than `2^maxWindowLog` are refused (a memory guard for untrusted input).
    public var maxWindowLog: Int

    public init(
        decoding: Decoding = .none, encoding: Encoding = .none, hashes: Hashes = .all, chunkSize: Int = 1 << 20,
        queueDepth: Int = 4, maxWindowLog: Int = 27
    ) {
        self.decoding = decoding
        self.encoding = encoding
        self.hashes = hashes
        self.chunkSize = chunkSize
        self.queueDepth = queueDepth
        self.maxWindowLog = maxWindowLog
    }

    /// Runs the pipeline to the end of `source`, then finishes `sink`.
    ///
    /// - Returns: sizes and digests of the three streams, and the frame ends when encoding.
    /// - Throws: the first error of any stage (`CodecError` from codecs and file sources/sinks, whatever a custom
    ///   source or sink threw), or `CancellationError` if the task was cancelled. All stages have stopped by then.
    public func run(from source: some ByteSource, to sink: some ByteSink) async throws -> PipelineResult {
        let run = try PipelineRun(self, source: source, sink: sink)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                run.start { result in continuation.resume(with: result) }
            }
        } onCancel: {
            run.fail(CancellationError())
        }
    }

    /// The same as `run`, blocking the calling thread (not for tasks on Swift's cooperative pool).
    public func runBlocking(from source: some ByteSource, to sink: some ByteSink) throws -> PipelineResult {
        let run = try PipelineRun(self, source: source, sink: sink)
        let done = ConditionLock<Result<PipelineResult, any Error>?>(nil)
        run.start { result in
            done.withLock { $0 = result }
            done.broadcast()
        }
        return try done.wait(until: { $0 != nil }) { $0! }.get()
    }
}

/// What a pipeline run saw.
public struct PipelineResult: Sendable, Hashable {
    /// The bytes read from the source (for a compressed blob: its digest and size, to check against the descriptor).
    public var input: StreamDigest
    /// The uncompressed bytes (for a layer: its DiffID). Equal to `input` when nothing was decoded.
    public var content: StreamDigest
    /// The bytes written to the sink. Equal to `content` when nothing was encoded.
    public var output: StreamDigest
    /// Where each frame ended (when encoding): after each chunk that asked for it, and at the end.
    public var frames: [FrameBoundary]

    public init(input: StreamDigest, content: StreamDigest, output: StreamDigest, frames: [FrameBoundary]) {
        self.input = input
        self.content = content
        self.output = output
        self.frames = frames
    }
}

/// The end of one gzip member or zstd frame asked for by the source, in both coordinates.
public struct FrameBoundary: Sendable, Hashable {
    /// Uncompressed bytes up to the end of the frame.
    public var contentOffset: Int64
    /// Compressed bytes up to the end of the frame: the next frame starts here.
    public var outputOffset: Int64

    public init(contentOffset: Int64, outputOffset: Int64) {
        self.contentOffset = contentOffset
        self.outputOffset = outputOffset
    }
}

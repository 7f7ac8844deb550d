import Codec
import Dispatch
import Foundation

/// `codec …`: drives Ferry's Codec module from scripts (`perf/codec.py`), so the measured code is the code Ferry
/// runs, with the same pipeline, pools and libraries.
///
///     codec logs   --out FILE --size BYTES [--seed N]       log-like text (gzip -6 ratio ≈ 3.8)
///     codec sha256 FILE...                                   one pipeline per file, all at once; prints digests
///     codec pipe   --in FILE --out FILE|- [--decode none|gzip|zstd|detect] [--encode none|gzip|zstd]
///                  [--level N] [--long] [--block-size BYTES] [--hash all|none] [--frame-size BYTES]
///                  runs one Pipeline; prints its PipelineResult as JSON on stdout
enum CodecCommands {
    static func run(_ argv: ArraySlice<String>) throws {
        guard let command = argv.first else { throw UsageError("codec: missing subcommand (logs, sha256, pipe)") }
        let rest = argv.dropFirst()
        switch command {
        case "logs": try self.logs(rest)
        case "sha256": try self.sha256(rest)
        case "pipe": try self.pipe(rest)
        default: throw UsageError("codec: unknown subcommand '\(command)'")
        }
    }

    private static func logs(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(argv, options: ["out", "size", "seed"])
        let size = try FixtureCommands.parseSize(try args.required("size"))
        var generator = LogText(seed: UInt64(args.optional("seed") ?? "1") ?? 1)
        let sink = try FileSink(path: try args.required("out"))
        var written = 0
        var buffer: [UInt8] = []
        while written < size {
            buffer.removeAll(keepingCapacity: true)
            generator.fill(&buffer, count: min(4 << 20, size - written))
            let piece = Array(buffer.prefix(size - written))
            try sink.write(Chunk(piece))
            written += piece.count
        }
        try sink.finish()
    }

    private static func sha256(_ argv: ArraySlice<String>) throws {
        let paths = Array(argv)
        guard !paths.isEmpty, !paths.contains(where: { $0.hasPrefix("--") }) else {
            throw UsageError("codec sha256 FILE...")
        }
        let results = ResultBox(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            results.set(index, Result { try Pipeline(hashes: .content).runBlocking(
                from: try FileSource(path: paths[index]), to: DiscardSink()) })
        }
        for (path, result) in zip(paths, results.values) {
            Log.stdout("\(try result.get().content.digest!)  \(path)")
        }
    }

    private static func pipe(_ argv: ArraySlice<String>) throws {
        let args = try Arguments(
            argv, options: ["in", "out", "decode", "encode", "level", "block-size", "hash", "frame-size"], flags: ["long"])
        let decoding: Pipeline.Decoding
        switch args.optional("decode") ?? "none" {
        case "none": decoding = .none
        case "gzip": decoding = .gzip
        case "zstd": decoding = .zstd
        case "detect": decoding = .detect
        case let other: throw UsageError("--decode \(other): none, gzip, zstd or detect")
        }
        let level = try args.optional("level").map { text -> Int in
            guard let level = Int(text) else { throw UsageError("--level must be a number") }
            return level
        }
        let encoding: Pipeline.Encoding
        switch args.optional("encode") ?? "none" {
        case "none": encoding = .none
        case "gzip":
            var options = GzipOptions(level: level ?? 6)
            if let block = args.optional("block-size") { options.blockSize = try FixtureCommands.parseSize(block) }
            encoding = .gzip(options)
        case "zstd": encoding = .zstd(ZstdOptions(level: level ?? 3, long: args.flag("long")))
        case let other: throw UsageError("--encode \(other): none, gzip or zstd")
        }
        let hashes: Pipeline.Hashes
        switch args.optional("hash") ?? "all" {
        case "all": hashes = .all
        case "none": hashes = []
        case let other: throw UsageError("--hash \(other): all or none")
        }
        var source: any ByteSource = try FileSource(path: try args.required("in"))
        if let frame = args.optional("frame-size") {
            source = FramingSource(inner: source, frameSize: try FixtureCommands.parseSize(frame))
        }
        let out = try args.required("out")
        let sink = out == "-" ? FileSink(descriptor: 1, closeWhenDone: false) : try FileSink(path: out)
        let result = try Pipeline(decoding: decoding, encoding: encoding, hashes: hashes).runBlocking(
            from: source, to: sink)
        func stream(_ digest: StreamDigest) -> [String: Any] {
            var object: [String: Any] = ["size": digest.size]
            if let sha = digest.digest { object["digest"] = sha }
            return object
        }
        let object: [String: Any] = [
            "input": stream(result.input), "content": stream(result.content), "output": stream(result.output),
            "frames": result.frames.map { ["contentOffset": $0.contentOffset, "outputOffset": $0.outputOffset] },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        if out == "-" {
            FileHandle.standardError.write(data + Data("\n".utf8))
        } else {
            Log.stdout(String(decoding: data, as: UTF8.self))
        }
    }
}

/// Ends a frame every `frameSize` bytes of the inner source (as a bundle writer does every few MiB).
private struct FramingSource: ByteSource {
    var inner: any ByteSource
    let frameSize: Int
    var sinceFrame = 0

    mutating func next() throws -> Chunk? {
        guard var chunk = try self.inner.next() else { return nil }
        self.sinceFrame += chunk.bytes.count
        if self.sinceFrame >= self.frameSize {
            chunk.endsFrame = true
            self.sinceFrame = 0
        }
        return chunk
    }
}

/// Results written by concurrent workers, read after they all finished.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Result<PipelineResult, any Error>?]

    init(count: Int) { self.storage = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<PipelineResult, any Error>) {
        self.lock.withLock { self.storage[index] = result }
    }

    var values: [Result<PipelineResult, any Error>] { self.lock.withLock { self.storage.map { $0! } } }
}

internal import CDeflate

/// libdeflate compressors, one per level, owned by one worker thread (a compressor is not thread-safe and costs
/// up to ~1 MB to set up, so each worker keeps its own for the life of the process).
///
/// The corresponding C functions are `libdeflate_alloc_compressor`, `libdeflate_gzip_compress` and
/// `libdeflate_free_compressor`.
final class DeflateCompressors {
    private var byLevel: [Int: OpaquePointer] = [:]

    init() {}

    deinit {
        for compressor in self.byLevel.values { libdeflate_free_compressor(compressor) }
    }

    /// One complete gzip member (header, raw deflate, CRC-32 and ISIZE trailer) holding `input`.
    /// libdeflate compresses whole buffers only, which is what makes every block an independent member.
    func gzipMember(of input: [UInt8], level: Int) -> [UInt8] {
        let compressor = self.compressor(level: Self.libdeflateLevel(level))
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        return input.withUnsafeBytes { source in
            // An empty array may have no base address; libdeflate still wants a pointer.
            withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) { dummy in
                let from = source.baseAddress ?? UnsafeRawPointer(dummy.baseAddress!)
                return [UInt8](unsafeUninitializedCapacity: bound) { out, count in
                    count = libdeflate_gzip_compress(compressor, from, source.count, out.baseAddress, bound)
                    // The bound is libdeflate's own worst case, so 0 ("did not fit") cannot happen.
                    precondition(count > 0, "libdeflate_gzip_compress overflowed its own bound")
                }
            }
        }
    }

    /// The libdeflate level for a gzip level: the fastest one that compresses at least as well as zlib at that
    /// level (`gzip -N`, `pigz -N`), so a level means the same size it does to users of those tools. libdeflate's
    /// own levels compress better than zlib's of the same number: on log-like text in 1 MiB blocks its 5 came out
    /// 4.8 % smaller than zlib's 6 and its 4 0.1 % larger (perf/README.md, "gzip levels").
    static func libdeflateLevel(_ level: Int) -> Int {
        Self.levels[max(0, min(level, Self.levels.count - 1))]
    }

    private static let levels = [0, 1, 2, 3, 3, 4, 5, 6, 8, 9]

    private func compressor(level: Int) -> OpaquePointer {
        if let compressor = self.byLevel[level] { return compressor }
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else {
            preconditionFailure("libdeflate_alloc_compressor(\(level)) failed: out of memory")
        }
        self.byLevel[level] = compressor
        return compressor
    }
}

/// Why a codec, a source, a sink or a pipeline failed.
///
/// `code` is a small closed set for decisions and metrics; `message` says what went wrong and what to do, e.g.
/// "gzip stream is corrupt at compressed byte 1048581: invalid deflate block (ISA-L -1)". Cancellation is not a
/// `CodecError`: a cancelled pipeline throws `CancellationError`.
public struct CodecError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case corruptData, truncated, io, invalidArgument, library
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The bytes are not a valid stream of the expected format: bad header or magic, bad deflate/zstd block,
        /// checksum (CRC-32, ISIZE, XXH64) mismatch, or data after the end.
        public static let corruptData = Code(.corruptData)
        /// The input ended inside a gzip member or zstd frame, or was empty.
        public static let truncated = Code(.truncated)
        /// Reading the source or writing the sink failed (the message carries the errno text).
        public static let io = Code(.io)
        /// A caller's value is out of range (level, window, sizes).
        public static let invalidArgument = Code(.invalidArgument)
        /// The C library failed for a reason that is not the data, such as running out of memory.
        public static let library = Code(.library)

        /// Stable and free of associated values, so it can label a metric or select an exit code.
        public var description: String {
            switch self.wrapped {
            case .corruptData: "corruptData"
            case .truncated: "truncated"
            case .io: "io"
            case .invalidArgument: "invalidArgument"
            case .library: "library"
            }
        }
    }

    public var code: Code
    /// What went wrong and, where it helps, what to do about it.
    public var message: String
    /// The position in the compressed input at which a decoder found the problem, if it is known.
    public var offset: Int64?
    /// The `errno` value of a failed system call.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, offset: Int64? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.errno = errno
    }

    public var description: String { self.message }
}

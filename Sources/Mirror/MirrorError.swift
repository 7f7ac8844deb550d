/// A failure of a whole job (copy, save, load…), with the image it concerns and what to do.
public struct MirrorError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case usage, unsupported, failed, interrupted }
        private let wrapped: Wrapped
        private init(_ w: Wrapped) { self.wrapped = w }
        /// Bad arguments: exit code 2.
        public static let usage = Code(.usage)
        public static let unsupported = Code(.unsupported)
        public static let failed = Code(.failed)
        public static let interrupted = Code(.interrupted)
        public var description: String { self.wrapped.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}

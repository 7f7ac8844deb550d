/// A failure reading or writing an image store (layout directory, bundle, archive).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case io, notFound, corrupt, digestMismatch, diskFull, unsafe }
        private let wrapped: Wrapped
        private init(_ w: Wrapped) { self.wrapped = w }
        public static let io = Code(.io)
        public static let notFound = Code(.notFound)
        public static let corrupt = Code(.corrupt)
        public static let digestMismatch = Code(.digestMismatch)
        public static let diskFull = Code(.diskFull)
        /// A hostile archive member (absolute path, `..`, a link leaving the archive).
        public static let unsafe = Code(.unsafe)
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

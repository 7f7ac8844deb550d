/// What went wrong moving bytes, with a message that says what to do about it.
public struct TransferError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case couldNotResolve, couldNotConnect, tls, timeout, connectionLost, cancelled, io, protocolError, tooLarge, digestMismatch, sizeMismatch, diskFull, other }
        private let wrapped: Wrapped
        private init(_ w: Wrapped) { self.wrapped = w }

        public static let couldNotResolve = Code(.couldNotResolve)
        public static let couldNotConnect = Code(.couldNotConnect)
        /// Certificate or handshake failure.
        public static let tls = Code(.tls)
        public static let timeout = Code(.timeout)
        /// Reset, cut or short read: worth retrying.
        public static let connectionLost = Code(.connectionLost)
        public static let cancelled = Code(.cancelled)
        public static let io = Code(.io)
        public static let protocolError = Code(.protocolError)
        public static let tooLarge = Code(.tooLarge)
        public static let digestMismatch = Code(.digestMismatch)
        public static let sizeMismatch = Code(.sizeMismatch)
        public static let diskFull = Code(.diskFull)
        public static let other = Code(.other)

        /// Bounded, with no associated values: fit for metrics and JSON events.
        public var description: String { self.wrapped.rawValue }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { self.message }

    /// Network trouble that another attempt may not meet.
    public var isTransient: Bool {
        [.couldNotConnect, .timeout, .connectionLost].contains(self.code)
    }
}

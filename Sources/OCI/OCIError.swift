/// An invalid or unsupported OCI value: a reference, digest, platform or manifest.
///
/// `message` says what is wrong and, where there is one, how to fix it; it is what users see.
public struct OCIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem; compare with `==` (`error.code == .invalidReference`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        // A struct over a private enum, so cases can be added without breaking exhaustive switches.
        private enum Wrapped: String, Hashable, Sendable {
            case invalidReference, invalidDigest, invalidPlatform, invalidManifest, unsupportedMediaType
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// A reference that does not follow Docker's grammar.
        public static let invalidReference = Code(.invalidReference)
        /// A digest that is not `algorithm:hex` with the right length and alphabet.
        public static let invalidDigest = Code(.invalidDigest)
        /// A platform that is not `os/arch[/variant]`.
        public static let invalidPlatform = Code(.invalidPlatform)
        /// Manifest bytes that are not a valid image manifest or index.
        public static let invalidManifest = Code(.invalidManifest)
        /// A media type Ferry cannot handle, such as Docker schema 1.
        public static let unsupportedMediaType = Code(.unsupportedMediaType)

        public var description: String { self.wrapped.rawValue }
    }

    public var code: Code
    public var message: String
    /// What is wrong, without the input it is wrong about (the message names both).
    public var reason: String

    public init(code: Code, message: String, reason: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason ?? message
    }

    public var description: String { self.message }

    // The reason is part of the message: errors are equal by code and message.
    public static func == (a: OCIError, b: OCIError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.message)
    }
}

extension OCIError {
    static func invalidReference(_ input: String, _ why: String) -> OCIError {
        OCIError(code: .invalidReference, message: "invalid reference \(quoted(input)): \(why)", reason: why)
    }

    static func invalidDigest(_ input: String, _ why: String) -> OCIError {
        OCIError(code: .invalidDigest, message: "invalid digest \(quoted(input)): \(why)")
    }

    static func invalidPlatform(_ input: String, _ why: String) -> OCIError {
        OCIError(code: .invalidPlatform, message: "invalid platform \(quoted(input)): \(why)")
    }

    static func invalidManifest(_ why: String) -> OCIError {
        OCIError(code: .invalidManifest, message: "invalid manifest: \(why)")
    }

    static func unsupportedMediaType(_ why: String) -> OCIError {
        OCIError(code: .unsupportedMediaType, message: why)
    }
}

/// Quotes user input for a message, cut short so a pasted blob cannot flood the terminal.
func quoted(_ text: some StringProtocol, limit: Int = 300) -> String {
    let shown = text.count > limit ? String(text.prefix(limit)) + "…" : String(text)
    return "\"\(shown)\""
}

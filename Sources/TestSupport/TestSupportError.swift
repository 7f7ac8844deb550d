/// What went wrong in a test part (a tool that failed, a registry that did not come up), with what to do about it.
///
/// One small struct rather than an enum of cases: callers of test parts only ever report these, never branch on them.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

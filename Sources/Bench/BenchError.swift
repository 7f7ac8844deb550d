/// Why a benchmark could not run or did not pass: what went wrong and what to do about it.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable { case usage, failed, regression }
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a child could not be started or talked to: what we tried, and the system's reason.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The `errno` behind it, when a system call failed.
    public let errno: Int32?

    public init(_ message: String, errno: Int32? = nil) {
        self.message = message
        self.errno = errno
    }

    public var description: String { self.message }

    /// "`what`: No such file or directory".
    static func system(_ what: String, _ code: Int32) -> SpawnError {
        SpawnError("\(what): \(String(cString: strerror(code)))", errno: code)
    }
}

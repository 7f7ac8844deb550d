/// A command line the tool cannot run; reported with the usage text and exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { self.message }
}

/// A start-up failure that is not the caller's spelling (unreadable key, port in use…); exit code 1.
struct StartupError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { self.message }
}

import Foundation

/// stderr for logs, stdout only for the `listening` line.
///
/// FileHandle rather than `fputs(…, stderr)`: the C globals are mutable state Swift 6 refuses to
/// share across threads, and FileHandle writes are unbuffered, so the line is out the moment it is written.
enum Log {
    static func info(_ message: String) { write(FileHandle.standardError, "ferry-testkit: \(message)\n") }

    static func error(_ message: String) { write(FileHandle.standardError, "ferry-testkit: error: \(message)\n") }

    static func stdout(_ message: String) { write(FileHandle.standardOutput, message + "\n") }

    private static func write(_ handle: FileHandle, _ text: String) {
        handle.write(Data(text.utf8))
    }
}

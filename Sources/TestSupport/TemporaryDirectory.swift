import Foundation

/// A fresh directory under the system temp dir, removed by `remove()` or when the last reference goes away.
///
/// Set `FERRY_KEEP_TEMP=1` to keep them (and their registry logs) for a post-mortem.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    /// - Parameter prefix: start of the directory's name, to tell test leftovers apart.
    public init(prefix: String = "ferry-test-") throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
        let url = base.appendingPathComponent(prefix + UUID().uuidString.lowercased(), isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        self.url = url
    }

    public var path: String { self.url.path }

    /// A path inside the directory (not created).
    public func appending(_ component: String) -> URL {
        self.url.appendingPathComponent(component)
    }

    /// Removes the directory and everything in it; removing twice is harmless.
    public func remove() {
        if ProcessInfo.processInfo.environment["FERRY_KEEP_TEMP"] == "1" { return }
        try? FileManager.default.removeItem(at: self.url)
    }

    deinit { self.remove() }
}

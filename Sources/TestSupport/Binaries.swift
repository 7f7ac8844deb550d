import Foundation

/// Where the project's own executables (`ferry`, `ferry-testkit`) are found by tests, `make demo` and perf scripts.
///
/// `FERRY_BIN_DIR` wins; otherwise the directory of the running executable, which under `swift test` is the
/// build's bin directory (`.build/debug/`), where SwiftPM also puts the products.
public enum Binaries {
    public static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["FERRY_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        return self.runningExecutableDirectory
    }

    /// The `ferry` CLI.
    public static var ferry: URL {
        get throws { try self.product("ferry") }
    }

    /// `ferry-testkit`: the token service, the static file server and the fault proxy.
    public static var testkit: URL {
        get throws { try self.product("ferry-testkit") }
    }

    /// A product by name, or an error saying how to build it.
    public static func product(_ name: String) throws -> URL {
        let url = self.directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestSupportError(
                "\(name) not found in \(self.directory.path); build it with `swift build --product \(name)` "
                    + "(same --scratch-path and configuration as the tests) or set FERRY_BIN_DIR")
        }
        return url
    }

    /// True when the product has been built, for tests that need it to run at all.
    public static func isBuilt(_ name: String) -> Bool {
        (try? self.product(name)) != nil
    }

    /// The directory holding this executable; for an XCTest bundle (`ferryPackageTests.xctest`, a file on
    /// Linux, a directory tree on macOS) the directory holding the bundle.
    static var runningExecutableDirectory: URL {
        let exe: URL
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            exe = URL(fileURLWithPath: target)
        } else {
            exe = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        }
        let components = exe.pathComponents
        if let bundle = components.lastIndex(where: { $0.hasSuffix(".xctest") }) {
            return URL(fileURLWithPath: NSString.path(withComponents: Array(components[..<bundle])), isDirectory: true)
        }
        return exe.deletingLastPathComponent()
    }
}

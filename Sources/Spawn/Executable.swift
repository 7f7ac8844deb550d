#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Program lookup the way a shell does it, done here rather than by `posix_spawnp` so that a missing tool is
/// an error naming it, not a child exiting 127.
public enum Executable {
    /// A name with a `/` is used as is; a bare name is looked up in this process's `PATH`.
    public static func resolve(_ name: String) throws(SpawnError) -> String {
        if name.contains("/") { return name }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(name)" : "\(directory)/\(name)"
            if self.isExecutableFile(candidate) { return candidate }
        }
        throw SpawnError("\(name) not found in PATH", errno: ENOENT)
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}

/// This process's environment, read from `environ`.
enum Environment {
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") {
                result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}

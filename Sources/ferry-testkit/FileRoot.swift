import Foundation

/// The directory `serve-files` serves, and the one place request paths become file paths.
///
/// A path is refused (nil, answered 404) when a segment is `..`, holds a NUL, or when the file it
/// names resolves, through symlinks, to somewhere outside the root.
struct FileRoot: Sendable {
    /// The root with symlinks resolved, without a trailing slash.
    let path: String

    init(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
            let resolved = Self.realPath(path)
        else { throw StartupError("--root \(path) is not a directory") }
        self.path = resolved == "/" ? "" : resolved
    }

    /// Maps the request target (`/docker/registry/v2/blobs/sha256/ab/<hex>/data?x=y`) to a file path.
    func resolve(_ target: String) -> String? {
        let rawPath = target.prefix { $0 != "?" && $0 != "#" }
        var segments: [String] = []
        // Empty segments are skipped: the redirect middleware may join `baseurl/` and `/docker/…` with `//`.
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            let segment = FormURLEncoding.unescape(raw, plusIsSpace: false)
            if segment == "." { continue }
            guard segment != "..", !segment.contains("\0"), !segment.contains("/") else { return nil }
            segments.append(segment)
        }
        guard !segments.isEmpty else { return nil }
        let candidate = self.path + "/" + segments.joined(separator: "/")
        guard let resolved = Self.realPath(candidate), resolved.hasPrefix(self.path + "/") else { return nil }
        return resolved
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }
}

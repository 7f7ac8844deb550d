/// Member names as a hostile archive might write them, made safe or refused.
public enum ArchivePath {
    /// The member's path relative to the archive root, or `nil` when it is absolute or climbs out with `..`.
    public static func normalized(_ name: String) -> String? {
        guard !name.hasPrefix("/") else { return nil }
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { return nil }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// Where a symbolic link inside the archive points, relative to the root; `nil` if it leaves the archive.
    public static func resolveLink(_ target: String, from member: String) -> String? {
        guard !target.hasPrefix("/") else { return nil }
        var parts = member.split(separator: "/").dropLast().map(String.init)
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }
}

import Stores

/// The regular files of a tar by normalized name, links followed inside the archive and never out of it, and what
/// was unsafe about the listing. One set of rules for every tar Ferry reads (plain, compressed with a frame index,
/// or streamed), so a hostile archive is refused the same way whatever it is wrapped in.
struct TarMembers: Sendable {
    struct Member: Sendable {
        var offset: Int64
        var size: Int64
        /// The member that holds the bytes (itself, or the target of a link).
        var source: String
    }

    let byName: [String: Member]
    /// Unsafe names, links leaving the archive or pointing nowhere, duplicates, unsupported member types.
    let problems: [String]

    init(_ entries: some Sequence<TarReader.Entry>) {
        var members: [String: Member] = [:]
        var directories = Set<String>()
        var links: [(String, String)] = []
        var problems: [String] = []
        for entry in entries {
            guard let name = ArchivePath.normalized(entry.name) else {
                problems.append("member \"\(entry.name)\" has an unsafe path (absolute or with ..)")
                continue
            }
            switch entry.typeflag {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if members[name] != nil { problems.append("member \"\(name)\" appears twice") }
                members[name] = Member(offset: entry.dataOffset, size: entry.size, source: name)
            case UInt8(ascii: "2"):
                guard let target = ArchivePath.resolveLink(entry.linkName, from: name) else {
                    problems.append("symbolic link \"\(name)\" → \"\(entry.linkName)\" leaves the archive")
                    continue
                }
                links.append((name, target))
            case UInt8(ascii: "1"):
                guard let target = ArchivePath.normalized(entry.linkName) else {
                    problems.append("hard link \"\(name)\" → \"\(entry.linkName)\" leaves the archive")
                    continue
                }
                links.append((name, target))
            case UInt8(ascii: "5"):
                directories.insert(name)
            default:
                problems.append("member \"\(name)\" has an unsupported type '\(Character(UnicodeScalar(entry.typeflag)))'")
            }
        }
        // Links to links resolve in a few rounds; what is left points nowhere.
        for _ in 0..<8 {
            links.removeAll { link in
                guard let target = members[link.1] else { return false }
                if members[link.0] != nil { problems.append("member \"\(link.0)\" appears twice") }
                members[link.0] = target
                return true
            }
        }
        for link in links { problems.append("link \"\(link.0)\" points to \"\(link.1)\", which is not in the archive") }
        // A directory and a file of one name: extracting it (docker load does) keeps one of them.
        for name in directories.intersection(members.keys).sorted() { problems.append("member \"\(name)\" appears twice (a directory and a file)") }
        self.byName = members
        self.problems = problems
    }

    /// Refuses to read an archive whose listing found anything unsafe (pushes and copies read it in place, so a
    /// link out of it would hand out files that are not in it); `ferry verify` reports everything else wrong too.
    static func requireSafe(_ problems: [String], path: String) throws(MirrorError) {
        guard problems.isEmpty else {
            throw MirrorError(.failed, "\(path) is not safe to read:\n  " + problems.sorted().joined(separator: "\n  ") + "\nrun ferry verify \(path) for a full report")
        }
    }
}

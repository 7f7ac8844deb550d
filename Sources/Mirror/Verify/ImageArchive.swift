import Codec
import Foundation
import Glibc
import Stores

/// Read access to the files of an image archive, whether a tar (read in place, never extracted) or a layout
/// directory. Names are relative to the archive root.
protocol ImageArchive: Sendable {
    var description: String { get }
    /// Every regular file, by normalized name.
    var files: [String] { get }
    func size(_ name: String) -> Int64?
    func read(_ name: String, limit: Int) throws -> [UInt8]
    /// sha256 hex of a file's content, streamed.
    func sha256(_ name: String) throws -> String
}

extension ImageArchive {
    func contains(_ name: String) -> Bool { self.size(name) != nil }

    /// Reads a JSON document, refusing sizes no real metadata has (a hostile archive's "huge JSON").
    func json<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let bytes = try self.read(name, limit: 16 << 20)
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}

/// A tar archive, its members located by `TarReader`; links inside the archive are followed, never out of it.
struct TarArchive: ImageArchive {
    let path: String
    /// normalized name → (data offset, size)
    let members: [String: (offset: Int64, size: Int64)]
    /// Problems found while listing: unsafe names, links leaving the archive, duplicates.
    let problems: [String]

    var description: String { self.path }
    var files: [String] { Array(self.members.keys) }

    init(path: String) throws {
        self.path = path
        var members: [String: (Int64, Int64)] = [:]
        var links: [(String, String)] = []
        var problems: [String] = []
        for entry in try TarReader(path: path).entries() {
            guard let name = ArchivePath.normalized(entry.name) else {
                problems.append("member \"\(entry.name)\" has an unsafe path (absolute or with ..)")
                continue
            }
            switch entry.typeflag {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if members[name] != nil { problems.append("member \"\(name)\" appears twice") }
                members[name] = (entry.dataOffset, entry.size)
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
                break
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
        self.members = members
        self.problems = problems
    }

    func size(_ name: String) -> Int64? { self.members[name]?.size }

    func read(_ name: String, limit: Int) throws -> [UInt8] {
        guard let m = self.members[name] else { throw StoreError(.notFound, "\(self.path) has no \(name)") }
        guard m.size <= Int64(limit) else { throw StoreError(.unsafe, "\(self.path): \(name) is \(m.size) bytes, too large for metadata") }
        return try self.withFile { fd in
            var out = [UInt8](repeating: 0, count: Int(m.size))
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(m.size), off_t(m.offset)) }
            guard n == Int(m.size) else { throw StoreError(.corrupt, "\(self.path): \(name) is truncated") }
            return out
        }
    }

    func sha256(_ name: String) throws -> String {
        guard let m = self.members[name] else { throw StoreError(.notFound, "\(self.path) has no \(name)") }
        return try self.withFile { fd in try hashRegion(fd, offset: m.offset, size: m.size, what: "\(self.path): \(name)") }
    }

    private func withFile<T>(_ body: (Int32) throws -> T) throws -> T {
        let fd = open(self.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "cannot open \(self.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try body(fd)
    }
}

/// An OCI image layout directory.
struct DirectoryArchive: ImageArchive {
    let root: String
    var description: String { self.root }

    var files: [String] {
        guard let e = FileManager.default.enumerator(atPath: self.root) else { return [] }
        var out: [String] = []
        while let name = e.nextObject() as? String {
            if name.hasPrefix(".ferry") { e.skipDescendants(); continue }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: self.root + "/" + name, isDirectory: &isDir), !isDir.boolValue { out.append(name) }
        }
        return out
    }

    func size(_ name: String) -> Int64? {
        var st = stat()
        guard ArchivePath.normalized(name) != nil, stat(self.root + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    func read(_ name: String, limit: Int) throws -> [UInt8] {
        guard let size = self.size(name) else { throw StoreError(.notFound, "\(self.root) has no \(name)") }
        guard size <= Int64(limit) else { throw StoreError(.unsafe, "\(self.root)/\(name) is \(size) bytes, too large for metadata") }
        guard let data = FileManager.default.contents(atPath: self.root + "/" + name) else { throw StoreError(.io, "cannot read \(self.root)/\(name)") }
        return [UInt8](data)
    }

    func sha256(_ name: String) throws -> String {
        let fd = open(self.root + "/" + name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "cannot open \(self.root)/\(name)") }
        defer { close(fd) }
        return try hashRegion(fd, offset: 0, size: self.size(name) ?? 0, what: "\(self.root)/\(name)")
    }
}

import Foundation
import Glibc
import Stores

/// A tar archive, its members located by `TarReader`; links inside the archive are followed, never out of it.
struct TarArchive: ImageArchive {
    let path: String
    /// By normalized name, links resolved.
    let members: [String: TarMembers.Member]
    /// Problems found while listing: unsafe names, links leaving the archive, duplicates.
    let problems: [String]

    var description: String { self.path }
    var files: [String] { Array(self.members.keys) }

    init(path: String) throws {
        self.path = path
        let listing = TarMembers(try TarReader(path: path).entries())
        self.members = listing.byName
        self.problems = listing.problems
    }

    /// Opens a tar for reading in place, refusing it when listing found anything unsafe (see `TarMembers`).
    static func safe(path: String) throws -> TarArchive {
        let tar: TarArchive
        do {
            tar = try TarArchive(path: path)
        } catch let e as StoreError {
            throw MirrorError(.failed, "\(path): \(e.message)")
        }
        try TarMembers.requireSafe(tar.problems, path: path)
        return tar
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

import Foundation
import Glibc
import Stores

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

import Glibc

/// Lists the members of a tar file without extracting it: name, kind, size, and where the data starts, so that
/// members can be read in place (headers decoded by `TarHeaderDecoder`).
public struct TarReader: Sendable {
    /// Codable so a listing can be cached (a streamed archive's first pass).
    public struct Entry: Sendable, Hashable, Codable {
        public var name: String
        public var typeflag: UInt8
        public var size: Int64
        public var dataOffset: Int64
        public var linkName: String

        /// Derived, not stored, so it can never disagree with `typeflag`; an old-style NUL typeflag is a file.
        public var kind: TarHeader.Kind? { TarHeader.Kind(rawValue: self.typeflag == 0 ? 0x30 : self.typeflag) }

        public init(name: String, typeflag: UInt8, size: Int64, dataOffset: Int64, linkName: String) {
            self.name = name
            self.typeflag = typeflag
            self.size = size
            self.dataOffset = dataOffset
            self.linkName = linkName
        }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Every member in archive order; throws on a truncated or corrupt archive.
    public func entries() throws(StoreError) -> [Entry] {
        let fd = open(self.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.notFound, "cannot open \(self.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let path = self.path
        return try Self.entries(size: Int64(st.st_size), path: path) { offset, count throws(StoreError) in
            try Self.read(fd, at: offset, count: count, path: path)
        }
    }

    /// Walks the headers of a tar of `size` bytes that `read` hands out by offset: a file, or a compressed bundle
    /// read through its frame index (each header is near a frame start, so listing decodes little).
    public static func entries(
        size fileSize: Int64, path: String, read: (Int64, Int) throws(StoreError) -> [UInt8]
    ) throws(StoreError) -> [Entry] {
        var offset: Int64 = 0
        var out: [Entry] = []
        var decoder = TarHeaderDecoder(path: path)
        while true {
            guard offset + 512 <= fileSize else {
                if offset == 0 { throw StoreError(.corrupt, "\(path) is not a tar archive: \(fileSize == 0 ? "it is empty" : "it is \(fileSize) bytes, less than one tar header")") }
                throw StoreError(.corrupt, "\(path) is truncated: it ends inside a tar header at byte \(offset)")
            }
            let block = try decoder.decode(try read(offset, 512), at: offset)
            let dataOffset = offset + 512
            // Subtract, don't add: a base-256 or PAX size near Int64.max would overflow `dataOffset + size`.
            guard block.size <= fileSize - dataOffset else {
                throw StoreError(.corrupt, "\(path) is truncated: a member at byte \(offset) claims \(block.size) bytes past the end of the file")
            }
            switch block {
            case .end: return out
            case .extended(let typeflag, let size):
                if typeflag != UInt8(ascii: "g") { try decoder.absorb(typeflag, try read(dataOffset, Int(size))) }
            case .member(let entry): out.append(entry)
            }
            offset = dataOffset + (block.size + 511) / 512 * 512
        }
    }

    /// Exactly `count` bytes at `offset` of an open file; a short read means the file is truncated.
    public static func read(_ fd: Int32, at offset: Int64, count: Int, path: String) throws(StoreError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        guard n == count else { throw StoreError(.corrupt, "\(path) is truncated at byte \(offset)") }
        return out
    }
}

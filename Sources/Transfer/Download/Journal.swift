import Glibc

/// The persisted record of which chunks of a partial file are written, kept beside it as `<file>.journal`.
///
/// Format (version 1, big-endian): `FERRYJNL`, u16 version, u64 size, u64 chunk size, u16 digest length, the expected
/// digest (`sha256:<hex>`), then one bit per chunk (bit 7 of byte 0 is chunk 0). A chunk is marked with a one-byte
/// write as soon as its data is written (no fsync: a SIGKILL keeps both); `sync()` makes data then journal durable.
/// After a power loss an unsynced chunk may be wrong: the digest check catches it.
public final class Journal: @unchecked Sendable {
    static let magic: [UInt8] = Array("FERRYJNL".utf8)
    static let version: UInt16 = 1

    public let path: String
    public let plan: ChunkPlan
    public let digest: String
    private let fd: Int32
    private let bitsOffset: Int64
    /// Guarded by the owner (one `SegmentedDownload` at a time); see `SegmentedDownload.state`.
    private var bits: [UInt8]

    /// Opens the journal at `path` if it describes the same blob and `dataPath` is a file of the right size;
    /// otherwise creates a fresh one. A journal that does not match is discarded, never trusted.
    /// - Parameter dataSize: the size the data file must have for the journal to be trusted (the blob's size, or
    ///   the whole bundle's when the blob is one extent of a planned tar).
    public init(path: String, plan: ChunkPlan, digest: String, dataPath: String, dataSize: Int64? = nil) throws {
        self.path = path
        self.plan = plan
        self.digest = digest
        var header = Self.magic
        header.appendBigEndian(Self.version)
        header.appendBigEndian(UInt64(plan.size))
        header.appendBigEndian(UInt64(plan.chunkSize))
        let digestBytes = Array(digest.utf8)
        header.appendBigEndian(UInt16(digestBytes.count))
        header += digestBytes
        self.bitsOffset = Int64(header.count)
        let byteCount = (plan.count + 7) / 8

        if let existing = Self.load(path: path, header: header, byteCount: byteCount), Self.fileSize(dataPath) == (dataSize ?? plan.size) {
            self.bits = existing
        } else {
            self.bits = [UInt8](repeating: 0, count: byteCount)
            // Written whole to a temporary file and renamed, so a torn header is never read back.
            let temp = path + ".new"
            try Self.writeFile(temp, header + self.bits)
            guard rename(temp, path) == 0 else { throw TransferError(.io, "cannot create journal \(path): \(errnoString())") }
        }
        self.fd = open(path, O_WRONLY | O_CLOEXEC)
        guard self.fd >= 0 else { throw TransferError(.io, "cannot open journal \(path): \(errnoString())") }
    }

    deinit { close(self.fd) }

    public func isDone(_ chunk: Int) -> Bool {
        self.bits[chunk / 8] & (0x80 >> UInt8(chunk % 8)) != 0
    }

    public var doneCount: Int { (0..<self.plan.count).count { self.isDone($0) } }

    /// Records `chunk` as written: one byte goes to the journal file, no fsync.
    public func mark(_ chunk: Int) throws {
        let i = chunk / 8
        self.bits[i] |= 0x80 >> UInt8(chunk % 8)
        var byte = self.bits[i]
        let n = pwrite(self.fd, &byte, 1, off_t(self.bitsOffset + Int64(i)))
        if n != 1 { throw TransferError(.io, "cannot write journal \(self.path): \(errnoString())") }
    }

    /// Makes the journal durable; call after the data file's own `fdatasync`.
    public func sync() {
        _ = fdatasync(self.fd)
    }

    /// Deletes the journal (after the blob is verified and in place, or to start over).
    public func remove() {
        unlink(self.path)
    }

    static func load(path: String, header: [UInt8], byteCount: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: header.count + byteCount + 1)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == header.count + byteCount, Array(buffer[0..<header.count]) == header else { return nil }
        return Array(buffer[header.count..<header.count + byteCount])
    }

    static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : nil
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TransferError(.io, "cannot create \(path): \(errnoString())") }
        defer { close(fd) }
        try writeAll(fd, bytes, at: 0, path: path)
        _ = fdatasync(fd)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { self.append(contentsOf: $0) }
    }
}

import CFile
import Glibc

/// The file a download writes: its descriptor, and a second one opened with `O_DIRECT` when the file system takes
/// it (a bundle on ext4 or XFS; not tmpfs).
struct DownloadFile: Sendable {
    let fd: Int32
    let direct: Int32?
    let path: String
    /// The file system's block: direct writes cover whole, aligned blocks.
    let block: Int

    /// Opens `path` once more with `O_DIRECT`; without it, every write is buffered.
    static func open(_ fd: Int32, path: String, direct wanted: Bool) -> DownloadFile {
        var st = stat()
        guard wanted, fstat(fd, &st) == 0, st.st_blksize >= 512, st.st_blksize <= 64 << 10 else {
            return DownloadFile(fd: fd, direct: nil, path: path, block: 4096)
        }
        let direct = CFile_open_direct(path)
        return DownloadFile(fd: fd, direct: direct >= 0 ? direct : nil, path: path, block: Int(st.st_blksize))
    }

    func close() {
        if let direct { _ = Glibc.close(direct) }
    }
}

/// Writes one run of bytes (a Range response) at its file offsets. Bytes that fill whole, aligned file-system blocks
/// are gathered into an aligned buffer and written with `O_DIRECT`: they skip the page cache, whose copy was most of
/// a save's CPU, and writes to one file run side by side (a buffered write holds the file's lock while it copies, so
/// a bundle's connections took turns). The partial blocks at either end go through the page cache.
///
/// `written` is the offset before which every byte is in the file; only that much may be journaled, and `onWrite`
/// sees each byte once it is in the file (the download hashes from there, so a byte received and then lost with
/// its connection is not hashed, and the one fetched again in its place is).
final class DirectWriter {
    private let file: DownloadFile
    private let onWrite: (UnsafeRawBufferPointer, _ offset: Int64) -> Void
    private let direct: Int32
    private let capacity: Int
    private let buffer: UnsafeMutableRawPointer
    /// File offset of `buffer[0]`: block-aligned once the head is written.
    private var start: Int64
    private var count = 0
    private(set) var written: Int64
    /// The file system took `O_DIRECT` at open but refuses the writes (EINVAL: some FUSE and network file systems):
    /// this writer goes through the page cache instead.
    private(set) var refused = false

    /// Nil when the file has no direct descriptor.
    init?(
        _ file: DownloadFile, at offset: Int64, capacity: Int = 1 << 20,
        onWrite: @escaping (UnsafeRawBufferPointer, _ offset: Int64) -> Void = { _, _ in }
    ) {
        guard let direct = file.direct else { return nil }
        self.file = file
        self.onWrite = onWrite
        self.direct = direct
        self.capacity = max(file.block, capacity / file.block * file.block)
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, max(file.block, 4096), self.capacity) == 0, let pointer else { return nil }
        self.buffer = pointer
        self.start = offset
        self.written = offset
    }

    deinit { free(self.buffer) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            if self.count == 0 && self.start % Int64(self.file.block) != 0 {
                // The head, up to the first block boundary: buffered.
                let head = min(rest.count, Int(Int64(self.file.block) - self.start % Int64(self.file.block)))
                let bytes = UnsafeRawBufferPointer(rebasing: rest[..<head])
                try writeAll(self.file.fd, bytes, at: self.start, path: self.file.path)
                self.onWrite(bytes, self.start)
                self.start += Int64(head)
                self.written = self.start
                rest = UnsafeRawBufferPointer(rebasing: rest[head...])
                continue
            }
            let n = min(rest.count, self.capacity - self.count)
            (self.buffer + self.count).copyMemory(from: rest.baseAddress!, byteCount: n)
            self.count += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if self.count == self.capacity { try self.flush(blocks: self.capacity) }
        }
    }

    /// Writes everything gathered: whole blocks directly, the rest through the page cache.
    func finish() throws {
        let whole = self.count / self.file.block * self.file.block
        if whole > 0 { try self.flush(blocks: whole) }
        if self.count > 0 {
            let bytes = UnsafeRawBufferPointer(start: self.buffer, count: self.count)
            try writeAll(self.file.fd, bytes, at: self.start, path: self.file.path)
            self.onWrite(bytes, self.start)
            self.start += Int64(self.count)
            self.count = 0
            self.written = self.start
        }
    }

    private func flush(blocks n: Int) throws {
        let bytes = UnsafeRawBufferPointer(start: self.buffer, count: n)
        var done = 0
        if !self.refused {
            let r = pwrite(self.direct, self.buffer, n, off_t(self.start))
            if r < 0 && errno == EINVAL { self.refused = true }
            done = max(0, r)
        }
        if done < n {
            // Retries, the rest of a short write, other errors (reported by `writeAll`), or buffered after a refusal.
            try writeAll(
                self.refused ? self.file.fd : self.direct, UnsafeRawBufferPointer(rebasing: bytes[done...]),
                at: self.start + Int64(done), path: self.file.path, piece: self.refused ? largestWrite : n - done)
        }
        self.onWrite(bytes, self.start)
        // What is left moves to the front (only after a partial flush by `finish`, which leaves less than a block).
        if n < self.count { memmove(self.buffer, self.buffer + n, self.count - n) }
        self.count -= n
        self.start += Int64(n)
        self.written = self.start
    }
}

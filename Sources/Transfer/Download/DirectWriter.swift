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
    /// Bytes copied into the gathering buffer (the rest went to the file from where they were).
    private(set) var copied = 0
    /// Memory and file alignment of writes made straight from the caller's bytes.
    private let alignment: Int

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
        self.alignment = max(file.block, BodyChunk.alignment)
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, self.alignment, self.capacity) == 0, let pointer else { return nil }
        self.buffer = pointer
        self.start = offset
        self.written = offset
    }

    deinit { free(self.buffer) }

    /// Bytes whose memory sits at their file offset's place within an aligned block (a placed `BodyChunk`) go to
    /// the file straight from where they are, block by block; others are gathered (copied) first.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            if self.count == 0 && self.start % Int64(self.file.block) != 0 {
                // The head, up to the first block boundary: buffered.
                let head = min(rest.count, Int(Int64(self.file.block) - self.start % Int64(self.file.block)))
                try self.writeBuffered(UnsafeRawBufferPointer(rebasing: rest[..<head]))
                rest = UnsafeRawBufferPointer(rebasing: rest[head...])
                continue
            }
            let next = self.start + Int64(self.count)
            var n = min(rest.count, self.capacity - self.count)
            if Int(bitPattern: rest.baseAddress!) % self.alignment == Int(next % Int64(self.alignment)) {
                let toBoundary = Int((Int64(self.alignment) - next % Int64(self.alignment)) % Int64(self.alignment))
                if toBoundary == 0 {
                    // Aligned in the file and in memory: what is gathered (whole blocks) and then these, straight.
                    let whole = rest.count / self.file.block * self.file.block
                    if whole > 0 {
                        let gathered = UnsafeRawBufferPointer(start: self.buffer, count: self.count)
                        let straight = UnsafeRawBufferPointer(rebasing: rest[..<whole])
                        try self.writeBlocks(self.count > 0 ? [gathered, straight] : [straight], at: self.start)
                        self.start += Int64(self.count + whole)
                        self.count = 0
                        self.written = self.start
                        rest = UnsafeRawBufferPointer(rebasing: rest[whole...])
                        continue
                    }
                    if self.count > 0 { try self.flush(blocks: self.count) }
                } else {
                    // Gather only up to the boundary; from there the bytes go straight.
                    n = min(n, toBoundary)
                }
            }
            (self.buffer + self.count).copyMemory(from: rest.baseAddress!, byteCount: n)
            self.count += n
            self.copied += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if self.count == self.capacity { try self.flush(blocks: self.capacity) }
        }
    }

    /// Writes everything gathered: whole blocks directly, the rest through the page cache.
    func finish() throws {
        let whole = self.count / self.file.block * self.file.block
        if whole > 0 { try self.flush(blocks: whole) }
        if self.count > 0 {
            try self.writeBuffered(UnsafeRawBufferPointer(start: self.buffer, count: self.count))
            self.count = 0
        }
    }

    /// Less than a block at `start` (a run's ends), through the page cache.
    private func writeBuffered(_ bytes: UnsafeRawBufferPointer) throws {
        try writeAll(self.file.fd, bytes, at: self.start, path: self.file.path)
        self.onWrite(bytes, self.start)
        self.start += Int64(bytes.count)
        self.written = self.start
    }

    private func flush(blocks n: Int) throws {
        try self.writeBlocks([UnsafeRawBufferPointer(start: self.buffer, count: n)], at: self.start)
        // What is left moves to the front (only after a partial flush by `finish`, which leaves less than a block).
        if n < self.count { memmove(self.buffer, self.buffer + n, self.count - n) }
        self.count -= n
        self.start += Int64(n)
        self.written = self.start
    }

    /// Whole blocks at a block-aligned offset, from aligned memory, in one direct write (each direct write waits
    /// for the device, so a gathered block and the caller's blocks after it go together); buffered once refused.
    private func writeBlocks(_ pieces: [UnsafeRawBufferPointer], at offset: Int64) throws {
        var done = 0
        if !self.refused {
            var vectors = pieces.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
            let r = pwritev(self.direct, &vectors, Int32(vectors.count), off_t(offset))
            if r < 0 && errno == EINVAL { self.refused = true }
            done = max(0, r)
        }
        var at = offset
        for piece in pieces {
            let skip = min(done, piece.count)
            done -= skip
            if skip < piece.count {
                // Retries, the rest of a short write, other errors (reported by `writeAll`), or buffered after a refusal.
                let rest = UnsafeRawBufferPointer(rebasing: piece[skip...])
                try writeAll(
                    self.refused ? self.file.fd : self.direct, rest, at: at + Int64(skip), path: self.file.path,
                    piece: self.refused ? largestWrite : rest.count)
            }
            self.onWrite(piece, at)
            at += Int64(piece.count)
        }
    }
}

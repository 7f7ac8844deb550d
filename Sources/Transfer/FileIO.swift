import Glibc

/// `pwrite` until every byte is written; ENOSPC becomes `.diskFull` with the path in the message.
public func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws {
    try bytes.withUnsafeBytes { try writeAll(fd, $0, at: offset, path: path) }
}

public func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: String) throws {
    try writeAll(fd, buffer, at: offset, path: path, piece: largestWrite)
}

/// `piece`: the most one `pwrite` is given (`largestWrite` through the page cache; a direct write takes its blocks
/// at once).
func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: String, piece: Int) throws {
    var done = 0
    while done < buffer.count {
        let n = pwrite(fd, buffer.baseAddress! + done, min(piece, buffer.count - done), off_t(offset + Int64(done)))
        if n < 0 {
            if errno == EINTR { continue }
            if errno == ENOSPC || errno == EDQUOT {
                throw TransferError(.diskFull, "disk full writing \(path): free some space, then run the same command again to resume")
            }
            throw TransferError(.io, "cannot write \(path): \(errnoString())")
        }
        done += n
    }
}

/// Empties the file and reserves `size` bytes for it: a full disk is an error now, not half way through. File
/// systems without `fallocate` get a sparse file of that size.
public func preallocate(_ fd: Int32, _ size: Int64, path: String) throws {
    guard ftruncate(fd, 0) == 0 else { throw TransferError(.io, "cannot truncate \(path): \(errnoString())") }
    guard size > 0 else { return }
    let err = posix_fallocate(fd, 0, off_t(size))
    if err != 0 {
        if err == ENOSPC || err == EDQUOT {
            throw TransferError(.diskFull, "not enough disk space for \(path) (\(size) bytes): free some space, then run the same command again")
        }
        guard ftruncate(fd, off_t(size)) == 0 else { throw TransferError(.io, "cannot size \(path): \(errnoString())") }
    }
}

/// Bytes one `pwrite` copies into the page cache. Linux 6.x sizes page-cache folios by the write: a 1 MiB write takes
/// a fresh high-order block, which on a VM whose free memory was handed back to the host costs a host fault per page;
/// small folios come from recently freed pages. Writing 2 GiB in 64 KiB pieces cost 1.4 s of kernel time against
/// 3.1 s in 1 MiB pieces there (dd, after the host had reclaimed free memory); the syscalls cost ~30 ms.
let largestWrite = 64 << 10

func errnoString() -> String { String(cString: strerror(errno)) }

/// The whole of a small file (a config, a list), or the system's reason it cannot be read: a directory, no
/// permission, no such file. Foundation's `contents(atPath:)` gives nil and no reason.
public func readSmallFile(_ path: String, limit: Int = 64 << 20) throws(TransferError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TransferError(.io, errnoString()) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw TransferError(.io, errnoString()) }
    guard st.st_mode & S_IFMT != S_IFDIR else { throw TransferError(.io, "it is a directory") }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw TransferError(.io, errnoString())
        }
        if n == 0 { return bytes }
        guard bytes.count + n <= limit else { throw TransferError(.tooLarge, "it is larger than \(limit >> 20) MiB") }
        bytes += buffer[0..<n]
    }
}

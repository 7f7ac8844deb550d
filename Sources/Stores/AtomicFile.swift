import Glibc

/// Writes `bytes` to a temporary file (in `temporaryDirectory`, by default beside `path`), syncs it, and renames it
/// over `path`: readers see the old file or the new one, never half of one. A file replaced keeps its permissions
/// (a manifest rewritten in place may hold secrets). Errors name `path` and the system's reason.
public func writeAtomically(_ bytes: [UInt8], to path: String, temporaryDirectory: String? = nil) throws(StoreError) {
    let directory = temporaryDirectory ?? (path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? ".")
    let temp = "\(directory)/.\(UInt64.random(in: 0...UInt64.max)).tmp"
    func failure(_ err: Int32) -> StoreError {
        if err == ENOSPC { return StoreError(.diskFull, "disk full writing \(path): free some space and run the same command again") }
        return StoreError(.io, "cannot write \(path): \(String(cString: strerror(err)))")
    }
    let fd = open(temp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure(errno) }
    var old = stat()
    if stat(path, &old) == 0 { _ = fchmod(fd, old.st_mode & 0o7777) }
    let err: Int32? = bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return fdatasync(fd) == 0 ? nil : errno
    }
    close(fd)
    if let err {
        unlink(temp)
        throw failure(err)
    }
    guard rename(temp, path) == 0 else {
        let err = errno
        unlink(temp)
        throw failure(err)
    }
}

import Codec
import OCI
import Glibc

/// sha256 hex of `size` bytes of `fd` from `offset`, read in 1 MiB blocks: a blob in a layout or in a tar, in place.
public func hashRegion(_ fd: Int32, offset: Int64, size: Int64, what: String) throws(StoreError) -> String {
    var hasher = SHA256()
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var done: Int64 = 0
    while done < size {
        let n = Int(min(Int64(buffer.count), size - done))
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, off_t(offset + done)) }
        guard got > 0 else { throw StoreError(.corrupt, "\(what) is truncated") }
        buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        done += Int64(got)
    }
    return hasher.hexDigest()
}

/// True when the file at `path` is exactly the blob `digest` of `size` bytes: a spooled, staged or recoded file left by
/// an earlier run counts only once it hashes right again (it may never have been synced).
public func fileHolds(_ path: String, digest: Digest, size: Int64) -> Bool {
    var st = stat()
    guard stat(path, &st) == 0, Int64(st.st_size) == size else { return false }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return (try? hashRegion(fd, offset: 0, size: size, what: path)) == digest.hex
}

import Glibc

/// Writes an executable script through a close-on-exec descriptor. Foundation's writes (`write(toFile:)`, `copyItem`)
/// leave theirs inheritable: a child that another test spawns meanwhile keeps the file open for writing as long as it
/// runs, and running the script then fails with "Text file busy" (ETXTBSY).
public func writeScript(_ text: String, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw TestSupportError("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        guard n > 0 else { throw TestSupportError("cannot write \(path): \(String(cString: strerror(errno)))") }
        done += n
    }
}

import Glibc

/// `pwrite` until every byte is written; ENOSPC becomes `.diskFull` with the path in the message.
public func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws {
    try bytes.withUnsafeBytes { try writeAll(fd, $0, at: offset, path: path) }
}

public func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: String) throws {
    var done = 0
    while done < buffer.count {
        let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
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

func errnoString() -> String { String(cString: strerror(errno)) }

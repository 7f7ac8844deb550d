#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls sources and sinks make, with `EINTR` retried and `errno` turned into `CodecError` here
/// and nowhere else.
enum FileDescriptorIO {
    static func openFile(_ path: String, flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw self.error("open \(path)")
        }
    }

    static func seek(_ fd: Int32, to offset: Int64, what: String) throws {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 { throw self.error("seek \(what)") }
    }

    /// Reads up to `count` bytes into a new array; an empty array means end of file.
    static func readChunk(_ fd: Int32, count: Int, what: String) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
            filled = 0
            while true {
                let n = read(fd, buffer.baseAddress, count)
                if n >= 0 {
                    filled = n
                    return
                }
                if errno == EINTR { continue }
                throw self.error("read \(what)")
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n >= 0 {
                offset += n
            } else if errno != EINTR {
                throw self.error("write \(what)")
            }
        }
    }

    static func syncData(_ fd: Int32, what: String) throws {
        #if os(Linux)
        let flush = fdatasync
        #else
        let flush = fsync
        #endif
        while flush(fd) != 0 {
            if errno != EINTR { throw self.error("fdatasync \(what)") }
        }
    }

    /// Closes `fd`; `EINTR` is not retried (on Linux the descriptor is gone either way).
    static func closeFile(_ fd: Int32, what: String) throws {
        if close(fd) != 0 && errno != EINTR {
            throw self.error("close \(what)")
        }
    }

    private static func error(_ operation: String) -> CodecError {
        let code = errno
        return CodecError(.io, "\(operation): \(String(cString: strerror(code)))", errno: code)
    }
}

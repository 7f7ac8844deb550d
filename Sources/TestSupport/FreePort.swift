#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Picks a TCP port that is free on a loopback address right now.
///
/// The kernel chooses it (bind to port 0), then the socket is closed so a child can bind it; another process
/// can take it in between, so callers retry when their child fails to bind.
public enum FreePort {
    /// - Parameter host: a loopback IPv4 address (127.0.0.0/8).
    public static func pick(host: String = "127.0.0.1") throws -> Int {
        for _ in 0..<20 {
            let port = try self.bindAndRelease(host: host)
            // The packaged registry service listens on 5000; never hand it out even if it happens to be free.
            if port != 5000 { return port }
        }
        throw TestSupportError("no free port found on \(host)")
    }

    private static func bindAndRelease(host: String) throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw TestSupportError("\(host) is not an IPv4 address")
        }
        guard (address.sin_addr.s_addr.bigEndian >> 24) == 127 else {
            throw TestSupportError("\(host) is not a loopback address; test parts only bind 127.0.0.0/8")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestSupportError("bind(\(host):0) failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw TestSupportError("getsockname failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

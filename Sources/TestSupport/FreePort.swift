#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// Picks a TCP port that is free on a loopback address right now.
///
/// The port is chosen at random below the kernel's ephemeral range and checked by binding it; the socket is then
/// closed so a child can bind it. Ports from the ephemeral range (what binding port 0 gives) were taken in
/// between by the source ports of the suite's own outgoing connections: under load a registry then failed with
/// "address already in use". Below the range only another picker can collide, and a port handed out once is not
/// handed out again by this process. Callers still retry when their child fails to bind.
public enum FreePort {
    private static let handedOut = Mutex<Set<Int>>([])

    /// - Parameter host: a loopback IPv4 address (127.0.0.0/8).
    public static func pick(host: String = "127.0.0.1") throws -> Int {
        let range = self.candidates()
        for _ in 0..<200 {
            let port = Int.random(in: range)
            let fresh = self.handedOut.withLock { $0.insert(port).inserted }
            guard fresh else { continue }
            if try self.isFree(port, host: host) { return port }
        }
        throw TestSupportError("no free port found on \(host) in \(range)")
    }

    /// Ports from 10000 up to the first ephemeral port (which never includes 5000, the packaged registry's port).
    static func candidates() -> ClosedRange<Int> {
        let fallback = 10_000...32_767
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
            let low = text.split(whereSeparator: \.isWhitespace).first.flatMap({ Int($0) }),
            low > 10_000 + 1_000
        else { return fallback }
        return 10_000...(low - 1)
    }

    private static func isFree(_ port: Int, host: String) throws -> Bool {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
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
        if bound == 0 { return true }
        guard errno == EADDRINUSE || errno == EACCES else {
            throw TestSupportError("bind(\(host):\(port)) failed: errno \(errno)")
        }
        return false
    }
}

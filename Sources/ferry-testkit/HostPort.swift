/// `HOST:PORT` as given on the command line.
struct HostPort: Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    init(parsing text: String) throws {
        // The last colon splits, so a bracketed IPv6 literal would survive; the testkit only uses IPv4.
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw UsageError("'\(text)' is not HOST:PORT") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw UsageError("'\(text)' has no host") }
        self.host = host
        self.port = port
    }

    /// Parses a listen address and refuses anything but 127.0.0.0/8: test servers must never be
    /// reachable from outside the machine.
    init(loopback text: String) throws {
        try self.init(parsing: text)
        let octets = self.host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }), octets[0] == "127" else {
            throw UsageError("--listen/--control must be an IPv4 loopback address (127.0.0.0/8), not '\(self.host)'")
        }
    }

    var description: String { "\(self.host):\(self.port)" }
}

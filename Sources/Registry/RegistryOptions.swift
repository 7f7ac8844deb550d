import Transfer

/// How to reach and authenticate with registries: the common `--tls-verify`, `--ca-cert`, `--creds`,
/// `--authfile` and `--retries` options.
public struct RegistryOptions: Sendable {
    public var tls: TLSConfiguration
    public var credentials: CredentialStore
    public var retry: RetryPolicy

    public init(tls: TLSConfiguration = .default, credentials: CredentialStore = CredentialStore(), retry: RetryPolicy = .default) {
        self.tls = tls
        self.credentials = credentials
        self.retry = retry
    }

    /// Plain HTTP is tried after HTTPS fails when verification is off, or for loopback hosts (as Docker does; a
    /// loopback host with a port is asked in plain HTTP first, see `Endpoint`).
    func allowsPlainHTTP(host: String) -> Bool {
        !self.tls.verify || Self.isLoopback(host)
    }

    public static func isLoopback(_ registry: String) -> Bool {
        var host = registry
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}

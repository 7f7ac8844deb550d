/// What one `ferry bench` run measures and against what: its phases, data sizes, runs, peers and registry.
public struct Scenario: Sendable {
    public var phases: [Phase] = Phase.allCases
    /// Image bytes in total, spread over `images` images of `layers` layers each.
    public var imageBytes: Int64 = 512 << 20
    public var images = 2
    public var layers = 4
    /// Layers of repetitive text rather than random bytes.
    public var compressible = false
    public var runs = 3
    /// Log-like text hashed and compressed by the codec phases.
    public var codecBytes: Int64 = 256 << 20
    /// The throttled phase: one blob of this size through a cap of `throttleRate` bytes/s per connection.
    public var throttleBytes: Int64 = 64 << 20
    public var throttleRate: Int64 = 10_000_000
    public var throttleConnections = 8
    public var compare: [Peer] = []
    /// A user's registry (HOST[:PORT]); nil starts a local one.
    public var registry: String?
    public var tlsVerify = true
    public var caCert: String?
    public var creds: String?
    /// Where data goes (a fresh directory is made inside); nil: $TMPDIR.
    public var workDir: String?
    /// Keep the work directory (for a look at what was made).
    public var keep = false

    public init() {}

    var parameters: Parameters {
        Parameters(
            imageBytes: self.imageBytes, images: self.images, layers: self.layers, compressible: self.compressible,
            runs: self.runs, codecBytes: self.codecBytes, throttleBytes: self.throttleBytes, throttleRate: self.throttleRate,
            throttleConnections: self.throttleConnections, registry: self.registry ?? "local", compare: self.compare.map(\.rawValue))
    }

    /// Checks sizes and counts, with messages saying what to pass instead.
    public func validate() throws {
        guard self.runs >= 1 else { throw BenchError(.usage, "--runs must be at least 1") }
        guard self.images >= 1, self.layers >= 1 else { throw BenchError(.usage, "--images and --layers must be at least 1") }
        guard self.imageBytes >= Int64(self.images * self.layers) * 1024 else {
            throw BenchError(.usage, "--size \(self.imageBytes) is too small for \(self.images) images of \(self.layers) layers: give at least 1 KiB a layer")
        }
        guard self.throttleConnections >= 1, self.throttleRate >= 1000 else {
            throw BenchError(.usage, "--throttle-connections must be at least 1 and --throttle-rate at least 1000 bytes/s")
        }
        guard !self.phases.isEmpty else { throw BenchError(.usage, "no phases to run") }
    }
}

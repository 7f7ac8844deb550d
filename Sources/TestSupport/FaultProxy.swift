import Foundation

/// `ferry-testkit proxy` between a client and a registry: faults in (cut, throttle, hold, 5xx, …), counters out,
/// through its `/__testkit/` control API. Tests start one per case and stop it by its PID.
public final class FaultProxy: Sendable {
    public let process: ChildProcess
    /// `127.0.0.1:PORT`: use it in place of the registry's address.
    public let address: String
    private let work: TemporaryDirectory

    private init(process: ChildProcess, address: String, work: TemporaryDirectory) {
        self.process = process
        self.address = address
        self.work = work
    }

    /// Starts a proxy to `upstream` (`HOST:PORT`) with `--fault` specs, and returns once it printed
    /// `listening HOST:PORT`.
    public static func start(upstream: String, faults: [String] = [], listen: String = "127.0.0.1:0") async throws -> FaultProxy {
        let work = try TemporaryDirectory(prefix: "ferry-proxy-")
        var argv = [try Binaries.testkit.path, "proxy", "--listen", listen, "--upstream", upstream]
        for fault in faults { argv += ["--fault", fault] }
        let child = try ChildProcess(argv, stdoutFile: work.appending("stdout"), stderrFile: work.appending("stderr"))
        return FaultProxy(process: child, address: try await child.awaitListening("proxy"), work: work)
    }

    public func stop() { self.process.stop() }

    /// Counters for one class of path (`blobs`, `uploads`, `manifests`, …).
    public struct ClassStats: Decodable, Sendable {
        public var requests: Int
        public var requestBodyBytes: Int
        public var responseBodyBytes: Int
    }

    /// How often a configured fault matched.
    public struct FaultStats: Decodable, Sendable {
        public var kind: String
        public var matched: Int
    }

    /// What went through the proxy since it started or was reset.
    public struct Stats: Decodable, Sendable {
        public var connectionsAccepted: Int
        /// Includes the connection asking for the stats.
        public var openConnections: Int
        public var maxOpenConnections: Int
        /// The most connections that sent bytes of one blob within one 50 ms window: its Range segments streaming side
        /// by side.
        public var maxBlobSenders: Int
        public var requests: Int
        public var requestBodyBytes: Int
        public var responseBodyBytes: Int
        public var byClass: [String: ClassStats]
        public var statuses: [String: Int]
        public var faultsApplied: [String: Int]
        public var faults: [FaultStats]
        public var held: Int

        public var blobBytes: Int { self.byClass["blobs"]?.responseBodyBytes ?? 0 }
        public var blobRequests: Int { self.byClass["blobs"]?.requests ?? 0 }
        public var uploads: ClassStats { self.byClass["uploads"] ?? ClassStats(requests: 0, requestBodyBytes: 0, responseBodyBytes: 0) }
        public func status(_ code: Int) -> Int { self.statuses[String(code)] ?? 0 }
    }

    public func stats() async throws -> Stats {
        let result = try await ProcessRunner.check(["curl", "-sS", "--max-time", "10", "http://\(self.address)/__testkit/stats"])
        return try JSONDecoder().decode(Stats.self, from: result.stdout)
    }

    /// Replaces the fault list (a JSON array of fault objects).
    public func setFaults(_ json: String) async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "--data-binary", json, "http://\(self.address)/__testkit/faults"])
    }

    /// Clears faults and counters, and lets held requests go.
    public func reset() async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "http://\(self.address)/__testkit/reset"])
    }

    /// Lets held requests go.
    public func releaseHeld() async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "http://\(self.address)/__testkit/release"])
    }

    /// Lets the first `count` held requests go.
    public func release(count: Int) async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "http://\(self.address)/__testkit/release?count=\(count)"])
    }

    /// Waits until `condition` holds for the stats, or fails after `seconds`.
    public func waitFor(_ what: String, seconds: Double = 20, _ condition: (Stats) -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(try await self.stats()) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("timed out waiting for the proxy: \(what)")
    }
}

import Foundation

/// A running Distribution registry on a loopback port, with whatever helpers its variant needs
/// (token service, file server). Made by `RegistryLauncher.launch`.
///
/// Stop it with `stop()` (idempotent; also run on `deinit`), e.g. `defer { registry.stop() }` right after launch.
public final class TestRegistry: Sendable {
    public let variant: RegistryVariant
    /// Always a loopback address.
    public let host: String
    public let port: Int
    /// The registry's storage (`storage.filesystem.rootdirectory`); several registries may share one.
    public let rootDirectory: URL
    /// Holds the config, certificates, htpasswd file and logs; removed by `stop()` unless `FERRY_KEEP_TEMP=1`.
    public let workDirectory: URL
    /// The private CA that signed the TLS certificate (`.https`); pass it as `--cacert`/`--cert-dir`.
    public let caCertPath: URL?
    /// All users who can log in (`.httpBasicAuth`, `.https(basicAuth:)`, `.token(users:)`).
    public let users: [Credentials]
    /// The token service's endpoint (`.token`).
    public let tokenRealm: URL?
    /// Where blob GETs are redirected (`.redirect`).
    public let redirectBaseURL: URL?
    /// The registry's config file, as it was started.
    public let configFile: URL
    /// The registry's stderr: its log.
    public let logFile: URL

    private let registry: ChildProcess
    private let helpers: [ChildProcess]
    private let work: TemporaryDirectory

    init(
        variant: RegistryVariant, host: String, port: Int, rootDirectory: URL, work: TemporaryDirectory,
        caCertPath: URL?, users: [Credentials], tokenRealm: URL?, redirectBaseURL: URL?, configFile: URL,
        registry: ChildProcess, helpers: [ChildProcess]
    ) {
        self.variant = variant
        self.host = host
        self.port = port
        self.rootDirectory = rootDirectory
        self.work = work
        self.workDirectory = work.url
        self.caCertPath = caCertPath
        self.users = users
        self.tokenRealm = tokenRealm
        self.redirectBaseURL = redirectBaseURL
        self.configFile = configFile
        self.logFile = registry.stderrFile
        self.registry = registry
        self.helpers = helpers
    }

    deinit { self.stop() }

    /// `127.0.0.1:PORT`: the registry part of an image reference.
    public var address: String { "\(self.host):\(self.port)" }

    /// `http(s)://127.0.0.1:PORT`.
    public var url: URL { URL(string: "\(self.variant.scheme)://\(self.address)")! }

    /// Credentials a client needs, if any (for `.token`, the first user).
    public var credentials: Credentials? { self.users.first }

    /// A `docker://` reference to `repository[:tag]` in this registry, as skopeo and ferry take it.
    public func reference(_ repository: String, tag: String? = nil) -> String {
        "docker://\(self.address)/\(repository)" + (tag.map { ":\($0)" } ?? "")
    }

    /// The registry process's PID.
    public var pid: Int32 { self.registry.pid }

    /// True while the registry process runs.
    public var isRunning: Bool { self.registry.isRunning }

    /// The registry's log so far (level `warn` by default; pass `logLevel: "info"` to the launcher for more).
    public func log() -> String { self.registry.stderr() }

    /// Logs of the helper processes (token service, file server), for diagnosing a failing test.
    public func helperLogs() -> String {
        self.helpers.map { "\($0.argv.prefix(2).joined(separator: " ")):\n\($0.stdout())\($0.stderr())" }
            .joined(separator: "\n")
    }

    /// Stops the registry, then its helpers (SIGTERM, SIGKILL after a timeout), and removes the work directory.
    /// A storage root given to the launcher is left alone.
    public func stop() {
        self.registry.stop()
        for helper in self.helpers { helper.stop() }
        self.work.remove()
    }
}

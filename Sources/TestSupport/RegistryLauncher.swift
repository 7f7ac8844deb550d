import Foundation

/// Starts real Distribution registries (`docker-registry serve`, Debian's 2.8) on free loopback ports.
///
/// ```swift
/// let registry = try await RegistryLauncher.launch(.https(basicAuth: Credentials(username: "u", password: "p")))
/// defer { registry.stop() }
/// ```
public enum RegistryLauncher {
    /// The token service's `service` and `issuer`, which the registry checks in every token.
    public static let tokenService = "ferry-test-registry"
    public static let tokenIssuer = "ferry-testkit"

    /// How long a registry, a helper or a proxy may take to answer before launching fails. Generous: a full parallel
    /// test run on 2 cores starts dozens of them at once, and a loaded run measured over 20 s for some.
    static let startupTimeout: Duration = .seconds(90)

    /// Starts a registry of `variant` and returns once `GET /v2/` answers (200, or 401 with auth).
    /// - Parameters:
    ///   - variant: plain, TLS, basic or token auth, or redirecting blob GETs.
    ///   - storageRoot: the storage directory; by default a fresh one in the registry's work directory.
    ///     Give the same one to several launches to serve one store through several variants.
    ///   - logLevel: the registry's log level (`error`, `warn`, `info`, `debug`); the log is `TestRegistry.logFile`.
    public static func launch(
        _ variant: RegistryVariant,
        storageRoot: URL? = nil,
        logLevel: String = "warn"
    ) async throws -> TestRegistry {
        RegistryJanitor.sweep()
        let work = try TemporaryDirectory(prefix: RegistryJanitor.prefix)
        try RegistryJanitor.claim(work)
        let root = storageRoot ?? work.appending("storage")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var config = RegistryConfig(address: "", rootDirectory: root, logLevel: logLevel)
        var helpers: [ChildProcess] = []
        var caCertPath: URL?
        var users: [Credentials] = []
        var tokenRealm: URL?
        var redirectBaseURL: URL?

        // Helpers are stopped if anything below throws: they are only kept alive by the registry handle.
        do {
            switch variant {
            case .http:
                break
            case .httpBasicAuth(let credentials):
                users = [credentials]
                config.htpasswd = try await self.writeHtpasswd(users, to: work.appending("htpasswd"))
            case .https(let basicAuth):
                let ca = try await PrivateCA.create(in: work.appending("tls"))
                let server = try await ca.issue(
                    name: "registry", commonName: "127.0.0.1",
                    subjectAltNames: ["IP:127.0.0.1", "DNS:localhost"], serverAuth: true)
                config.tls = (server.certificate, server.key)
                caCertPath = ca.certificate
                if let basicAuth {
                    users = [basicAuth]
                    config.htpasswd = try await self.writeHtpasswd(users, to: work.appending("htpasswd"))
                }
            case .token(let tokenUsers, let anonymousPull):
                users = tokenUsers
                let ca = try await PrivateCA.create(in: work.appending("token"), commonName: "Ferry Token CA")
                let signer = try await ca.issue(name: "token-signer", commonName: "ferry token signer")
                var argv = [
                    try Binaries.testkit.path, "token-server", "--listen", "127.0.0.1:0",
                    "--key", signer.key.path, "--cert", signer.certificate.path,
                    "--issuer", self.tokenIssuer, "--service", self.tokenService,
                ]
                for user in tokenUsers { argv += ["--user", user.colonSeparated] }
                if anonymousPull { argv.append("--anonymous-pull") }
                let (server, address) = try await self.startHelper(argv, name: "token-server", in: work)
                helpers.append(server)
                let realm = URL(string: "http://\(address)/token")!
                tokenRealm = realm
                config.token = (realm.absoluteString, self.tokenService, self.tokenIssuer, ca.certificate)
            case .redirect:
                let argv = [try Binaries.testkit.path, "serve-files", "--listen", "127.0.0.2:0", "--root", root.path]
                let (server, address) = try await self.startHelper(argv, name: "serve-files", in: work)
                helpers.append(server)
                let base = URL(string: "http://\(address)/")!
                redirectBaseURL = base
                config.redirectBaseURL = base.absoluteString
            }

            let (registry, port, configFile) = try await self.startRegistry(
                config, scheme: variant.scheme, caCertPath: caCertPath, in: work)
            return TestRegistry(
                variant: variant, host: "127.0.0.1", port: port, rootDirectory: root, work: work,
                caCertPath: caCertPath, users: users, tokenRealm: tokenRealm, redirectBaseURL: redirectBaseURL,
                configFile: configFile, registry: registry, helpers: helpers)
        } catch {
            for helper in helpers { helper.stop() }
            work.remove()
            throw error
        }
    }

    /// Starts the registry on a free port, trying another port when one was taken between picking and binding.
    private static func startRegistry(
        _ config: RegistryConfig, scheme: String, caCertPath: URL?, in work: TemporaryDirectory
    ) async throws -> (ChildProcess, Int, URL) {
        var config = config
        let configFile = work.appending("config.yml")
        var lastLog = ""
        for _ in 0..<5 {
            let port = try FreePort.pick()
            config.address = "127.0.0.1:\(port)"
            try config.write(to: configFile)
            let registry = try ChildProcess(
                ["docker-registry", "serve", configFile.path],
                stdoutFile: work.appending("registry.stdout"), stderrFile: work.appending("registry.log"),
                removingEnvironmentPrefix: "REGISTRY_")
            RegistryJanitor.record(registry, in: work)
            let url = "\(scheme)://127.0.0.1:\(port)/v2/"
            if try await self.waitUntilServing(url, caCertPath: caCertPath, process: registry) {
                return (registry, port, configFile)
            }
            let exited = !registry.isRunning
            registry.stop()
            lastLog = registry.stderr()
            if !lastLog.contains("address already in use") {
                let why = exited ? "exited" : "did not answer GET /v2/ within \(self.startupTimeout)"
                throw TestSupportError("docker-registry on port \(port) \(why); its log:\n\(lastLog)")
            }
        }
        throw TestSupportError("docker-registry did not start; its log:\n\(lastLog)")
    }

    /// Polls `GET /v2/` until the registry answers as a registry does (200, or 401 when auth is on).
    /// False if the process died or the time ran out.
    private static func waitUntilServing(_ url: String, caCertPath: URL?, process: ChildProcess) async throws -> Bool {
        let deadline = ContinuousClock.now + self.startupTimeout
        var argv = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %header{docker-distribution-api-version}",
            "--max-time", "2",
        ]
        if let caCertPath { argv += ["--cacert", caCertPath.path] }
        argv.append(url)
        // Polls back off: with dozens of registries starting at once, a curl every 50 ms each is load of its own.
        var pause = Duration.milliseconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { return false }
            let result = try await ProcessRunner.run(argv)
            let answer = result.stdoutString
            if (answer.hasPrefix("200 ") || answer.hasPrefix("401 ")) && answer.hasSuffix("registry/2.0") {
                return process.isRunning
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(500))
        }
        return false
    }

    /// Starts a `ferry-testkit` server and waits for its `listening HOST:PORT` line.
    private static func startHelper(
        _ argv: [String], name: String, in work: TemporaryDirectory
    ) async throws -> (ChildProcess, String) {
        let helper = try ChildProcess(
            argv, stdoutFile: work.appending("\(name).stdout"), stderrFile: work.appending("\(name).log"))
        RegistryJanitor.record(helper, in: work)
        return (helper, try await helper.awaitListening(name))
    }

    /// Writes a bcrypt htpasswd file (the only hash registry 2.8 accepts). The file must exist before the registry
    /// starts: when it is missing, the registry invents a password, prints it to its log and carries on.
    private static func writeHtpasswd(_ users: [Credentials], to url: URL) async throws -> URL {
        var lines = ""
        for user in users {
            let result = try await ProcessRunner.check(["htpasswd", "-Bbn", user.username, user.password])
            lines += result.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        }
        guard !users.isEmpty, lines.contains("$2y$") else {
            throw TestSupportError("htpasswd did not produce a bcrypt entry")
        }
        try lines.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

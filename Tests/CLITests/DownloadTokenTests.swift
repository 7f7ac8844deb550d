import Foundation
import TestSupport
import Testing

/// A bearer token that stops being accepted in the middle of a download is renewed, and the download goes on.
///
/// Tokens can't be made to expire quickly: registry 2.8 adds a 60 s leeway to `exp`, and the token service's
/// `--expires-in` is at least 1 s. So the test makes the registry stop trusting the old token instead: half way,
/// the registry is restarted (same port, same storage) trusting only a new signing CA, and the token service is
/// restarted (same port, so the realm in the challenge is unchanged) signing with that CA. Every request still
/// carrying the old token gets a real 401 with a real challenge.
@Suite struct DownloadTokenTests {
    static let service = "ferry-dl-registry"
    static let issuer = "ferry-testkit"

    /// A token service + registry pair whose signing CA can be swapped.
    final class SwappableTokenRegistry: @unchecked Sendable {
        let work: TemporaryDirectory
        let storage: URL
        let user: Credentials
        var tokenServer: ChildProcess?
        var registry: ChildProcess?
        var tokenAddress = ""
        var registryPort = 0
        /// Between the registry's clients and the token service, when the test wants faults there.
        var tokenProxy: DL.Proxy?

        init(user: Credentials) throws {
            self.work = try TemporaryDirectory(prefix: "ferry-dl-token-")
            self.storage = self.work.appending("storage")
            self.user = user
        }

        var registryAddress: String { "127.0.0.1:\(self.registryPort)" }

        /// Signing material per generation, made ahead of time so that a swap is quick.
        var prepared: [Int: (ca: PrivateCA, signer: PrivateCA.Issued)] = [:]

        func prepare(generation: Int) async throws {
            let ca = try await PrivateCA.create(in: self.work.appending("ca\(generation)"), commonName: "DL Token CA \(generation)")
            let signer = try await ca.issue(name: "signer", commonName: "dl token signer \(generation)")
            self.prepared[generation] = (ca, signer)
        }

        /// Starts (or restarts, on the same ports) the token service signing under a fresh CA and the registry trusting it.
        func start(generation: Int, tokenFaults: [String]? = nil) async throws {
            if self.prepared[generation] == nil { try await self.prepare(generation: generation) }
            let (ca, signer) = self.prepared[generation]!
            self.registry?.stop()
            self.tokenServer?.stop()
            // A port from FreePort, not 0: the restart binds it again, and an ephemeral port may by then be some connection's.
            let listen = self.tokenAddress.isEmpty ? "127.0.0.1:\(try FreePort.pick())" : self.tokenAddress
            let server = try ChildProcess(
                [try Binaries.testkit.path, "token-server", "--listen", listen, "--key", signer.key.path, "--cert", signer.certificate.path,
                 "--issuer", DownloadTokenTests.issuer, "--service", DownloadTokenTests.service, "--user", self.user.colonSeparated],
                stdoutFile: self.work.appending("token\(generation).stdout"), stderrFile: self.work.appending("token\(generation).stderr"))
            self.tokenServer = server
            let listening = try await DL.waitUntil(.seconds(20)) { server.stdout().hasPrefix("listening ") || !server.isRunning }
            try #require(listening && server.isRunning, "token server: \(server.stderr())")
            self.tokenAddress = String(server.stdout().dropFirst("listening ".count)).trimmingCharacters(in: .whitespacesAndNewlines)

            if let tokenFaults {
                self.tokenProxy?.stop()
                self.tokenProxy = try await DL.Proxy.start(upstream: self.tokenAddress, faults: tokenFaults)
            }
            let realm = self.tokenProxy?.address ?? self.tokenAddress
            if self.registryPort == 0 { self.registryPort = try FreePort.pick() }
            let config: [String: Any] = [
                "version": "0.1",
                "log": ["level": "warn", "accesslog": ["disabled": true]],
                "storage": ["filesystem": ["rootdirectory": self.storage.path], "maintenance": ["uploadpurging": ["enabled": false]]],
                "http": ["addr": self.registryAddress, "secret": "ferry-dl-token-test"],
                "auth": ["token": ["realm": "http://\(realm)/token", "service": DownloadTokenTests.service,
                                   "issuer": DownloadTokenTests.issuer, "rootcertbundle": ca.certificate.path]],
            ]
            let configFile = self.work.appending("registry\(generation).json")
            try JSONSerialization.data(withJSONObject: config, options: [.withoutEscapingSlashes]).write(to: configFile)
            let registry = try ChildProcess(
                ["docker-registry", "serve", configFile.path],
                stdoutFile: self.work.appending("registry\(generation).stdout"), stderrFile: self.work.appending("registry\(generation).log"),
                removingEnvironmentPrefix: "REGISTRY_")
            self.registry = registry
            let up = try await DL.waitUntil(.seconds(20), every: .milliseconds(50)) {
                let r = try await ProcessRunner.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://\(self.registryAddress)/v2/"])
                return r.stdoutString == "401" || !registry.isRunning
            }
            try #require(up && registry.isRunning, "registry: \(registry.stderr())")
        }

        /// Tokens the current token service issued.
        func tokensIssued() async throws -> Int {
            let r = try await ProcessRunner.check(["curl", "-sS", "--max-time", "10", "http://\(self.tokenAddress)/__testkit/stats"])
            let object = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]
            return object?["tokens"] as? Int ?? 0
        }

        func stop() {
            self.registry?.stop()
            self.tokenProxy?.stop()
            self.tokenServer?.stop()
            self.work.remove()
        }
    }

    @Test("a token refused mid-transfer (401 with a challenge) is renewed and the download completes")
    func renewedMidTransfer() async throws {
        let user = Credentials(username: "dl", password: "pw-\(UInt32.random(in: 100_000...999_999))")
        let setup = try SwappableTokenRegistry(user: user)
        defer { setup.stop() }
        try await setup.start(generation: 1)
        let image = try await DL.buildImage(ImageSpec(layers: [LayerSpec(size: 16 << 20)], seed: 351), at: setup.work.appending("src"), tag: "1")
        try await Seeder(baseURL: URL(string: "http://\(setup.registryAddress)")!, credentials: user).push(image, to: "tok/app", tag: "1")
        let layer = image.manifests[0].layers[0].blob

        try await setup.prepare(generation: 2)
        // 4 connections × 1 MB/s: ~4 s for the layer, time enough to swap the CA under it.
        let proxy = try await DL.Proxy.start(upstream: setup.registryAddress, faults: ["throttle=1000000,path=/blobs/"])
        defer { proxy.stop() }
        let home = try TemporaryDirectory(prefix: "ferry-home-")
        let layout = setup.work.appending("out").path
        let ferry = try DL.startFerry(
            ["copy", "--progress", "json", "--creds", user.colonSeparated, "--connections", "4", "--chunk-size", "1MiB",
             "docker://\(proxy.address)/tok/app:1", "oci:\(layout)"], home: home, output: setup.work, name: "ferry")
        defer { ferry.stop() }
        let journal = DL.partialPath(layout, layer) + ".journal"
        let started = try await DL.waitUntil(.seconds(30)) { (DL.JournalFile(path: journal)?.doneCount ?? 0) >= 2 || !ferry.isRunning }
        try #require(started && ferry.isRunning, "ferry: \(ferry.stderr())")

        let refusedBefore = try await proxy.stats().status(401)  // the first ping's challenge
        try await setup.start(generation: 2)
        let unfinished = DL.JournalFile(path: journal).map { $0.doneCount < $0.done.count } ?? false
        try #require(ferry.isRunning && unfinished, "the download ended before the swap: the test proves nothing")
        let ended = try await DL.waitForExit(ferry, timeout: .seconds(60))
        #expect(ended)
        #expect(ferry.terminationStatus == 0, "\(ferry.stderr())")
        #expect(try DL.verifyLayout(layout) == Set(image.blobs.map(\.digest)))
        let stats = try await proxy.stats()
        #expect(stats.status(401) > refusedBefore, "the old token was refused by the new registry: \(stats.statuses)")
        #expect(try await setup.tokensIssued() >= 1, "a new token came from the restarted token service")
        #expect(!ferry.stderr().contains(user.password))
    }

    @Test("Retry-After is honoured for token and manifest requests too")
    func retryAfterOnTokenAndManifest() async throws {
        let user = Credentials(username: "dl", password: "pw-\(UInt32.random(in: 100_000...999_999))")
        let setup = try SwappableTokenRegistry(user: user)
        defer { setup.stop() }
        try await setup.start(generation: 1, tokenFaults: [])
        let image = try await DL.buildImage(ImageSpec(layers: [LayerSpec(size: 1 << 20)], seed: 352), at: setup.work.appending("src"), tag: "1")
        try await Seeder(baseURL: URL(string: "http://\(setup.registryAddress)")!, credentials: user).push(image, to: "tok/app", tag: "1")
        let tokenProxy = try #require(setup.tokenProxy)
        // Armed after seeding: the first token request and the first manifest request are told to wait 2 s.
        try await tokenProxy.setFaults(#"[{"kind":"429","retry-after":2,"count":1,"path":"/token"}]"#)
        let front = try await DL.Proxy.start(upstream: setup.registryAddress, faults: ["429,retry-after=2,count=1,path=/manifests/"])
        defer { front.stop() }

        let layout = setup.work.appending("out").path
        let start = ContinuousClock.now
        let result = try await CLI().run(["copy", "--creds", user.colonSeparated, "docker://\(front.address)/tok/app:1", "oci:\(layout)"])
        let elapsed = DL.seconds(ContinuousClock.now - start)
        #expect(result.status == 0, "\(result.stderrString)")
        #expect(try DL.verifyLayout(layout) == Set(image.blobs.map(\.digest)))
        #expect(try await tokenProxy.stats().status(429) == 1)
        #expect(try await front.stats().status(429) == 1)
        // One pause for the token, then one for the manifest, each as long as asked (backoff alone is ~0.2 s).
        #expect(elapsed >= 3.9, "took \(elapsed) s")
    }
}

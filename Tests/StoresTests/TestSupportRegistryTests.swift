import Foundation
import TestSupport
import Testing

/// Real registries (docker-registry 2.8) seeded with synthetic images, checked with skopeo and curl.
@Suite("TestSupport: registries and seeding")
struct TestSupportRegistryTests {
    static let alice = Credentials(username: "alice", password: "s3cret-pass")

    static func smallOCI(in dir: URL) throws -> BuiltImage {
        try ImageBuilder.write(
            ImageSpec(layers: [LayerSpec(size: 600_000, compressible: true), LayerSpec(size: 1 << 20)], seed: 21),
            to: dir, tag: "v1")
    }

    static func multiArchDocker(in dir: URL) throws -> BuiltImage {
        try ImageBuilder.write(
            ImageSpec(
                layers: [LayerSpec(size: 400_000, compressible: true), LayerSpec(size: 500_000)], mediaTypes: .docker,
                platforms: ["linux/amd64", "linux/arm64/v8"], attestation: true, seed: 22),
            to: dir, tag: "multi")
    }

    /// The digest of the manifest skopeo fetches: sha256 of `skopeo inspect --raw`.
    static func servedDigest(_ reference: String, extra: [String] = []) async throws -> String {
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw"] + extra + [reference]).stdout
        return try await LayoutChecks.sha256sum(raw)
    }

    static func status(_ argv: [String]) async throws -> String {
        try await ProcessRunner.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + argv).stdoutString
    }

    @Test("plain HTTP: seeded images are served with their exact digests, and stop() ends the registry")
    func seedPlainHTTP() async throws {
        let dir = try TemporaryDirectory()
        let oci = try Self.smallOCI(in: dir.url)
        let multi = try Self.multiArchDocker(in: dir.url)
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        #expect(registry.url.absoluteString == "http://127.0.0.1:\(registry.port)")
        #expect(registry.port != 5000)

        let seeder = Seeder(registry)
        let first = try await seeder.push(oci, to: "synthetic/oci")
        #expect(first.digest == oci.digest)
        #expect(first.blobsPushed == 3 && first.blobsSkipped == 0)
        try await seeder.push(multi, to: "synthetic/multi")

        let insecure = ["--tls-verify=false"]
        #expect(
            try await Self.servedDigest(registry.reference("synthetic/oci", tag: "v1"), extra: insecure) == oci.digest)
        #expect(
            try await Self.servedDigest(registry.reference("synthetic/multi", tag: "multi"), extra: insecure)
                == multi.digest)
        for child in multi.manifests {
            let reference = "docker://\(registry.address)/synthetic/multi@\(child.manifest.digest)"
            #expect(try await Self.servedDigest(reference, extra: insecure) == child.manifest.digest)
        }
        // A layer comes back byte for byte.
        let layer = try #require(oci.manifests.first?.layers.last)
        let blob = try await ProcessRunner.check([
            "curl", "-sSf", "\(registry.url)/v2/synthetic/oci/blobs/\(layer.blob.digest)",
        ])
        #expect(try await LayoutChecks.sha256sum(blob.stdout) == layer.blob.digest)

        // Seeding again finds every blob there already.
        let again = try await seeder.push(oci, to: "synthetic/oci", tag: "v1-again")
        #expect(again.blobsPushed == 0 && again.blobsSkipped == 3)

        let pid = registry.pid
        registry.stop()
        #expect(!registry.isRunning)
        #expect(kill(pid, 0) != 0, "the registry process is gone")
        #expect(try await Self.status(["\(registry.url)/v2/"]) == "000")
    }

    @Test("skopeo copies a seeded OCI image into a fresh oci: layout, digests intact")
    func skopeoCopy() async throws {
        let dir = try TemporaryDirectory()
        let image = try Self.smallOCI(in: dir.url)
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        try await Seeder(registry).push(image, to: "copy/me")

        let target = try TemporaryDirectory()
        try await ProcessRunner.check([
            "skopeo", "copy", "--src-tls-verify=false",
            registry.reference("copy/me", tag: "v1"), "oci:\(target.path):copied",
        ])
        let index = try LayoutChecks.json(target.appending("index.json"))
        let entry = try #require((index["manifests"] as? [[String: Any]])?.first)
        #expect(entry["digest"] as? String == image.digest)
        for blob in image.blobs {
            let path = target.appending("blobs/sha256/\(blob.hex)")
            #expect(try await LayoutChecks.sha256sum(path) == blob.digest)
        }
        // And skopeo reads our own layout directly too.
        let local = try await ProcessRunner.check(["skopeo", "inspect", "--raw", image.ociReference]).stdout
        #expect(try await LayoutChecks.sha256sum(local) == image.digest)
    }

    @Test("HTTPS with basic auth: reachable with the CA and credentials, refused without")
    func httpsBasicAuth() async throws {
        let registry = try await RegistryLauncher.launch(.https(basicAuth: Self.alice))
        defer { registry.stop() }
        let ca = try #require(registry.caCertPath)
        #expect(registry.url.absoluteString == "https://127.0.0.1:\(registry.port)")
        #expect(registry.credentials == Self.alice)
        let v2 = "\(registry.url)/v2/"
        #expect(try await Self.status(["--cacert", ca.path, "-u", Self.alice.colonSeparated, v2]) == "200")
        #expect(try await Self.status(["--cacert", ca.path, v2]) == "401")
        #expect(try await Self.status(["--cacert", ca.path, "-u", "alice:wrong", v2]) == "401")
        // Without the CA the certificate is not trusted (curl exit 60, no HTTP status).
        let untrusted = try await ProcessRunner.run(["curl", "-s", "-o", "/dev/null", v2])
        #expect(untrusted.status == 60)
        // The certificate is also valid for localhost.
        let localhost = "https://localhost:\(registry.port)/v2/"
        #expect(try await Self.status(["--cacert", ca.path, "-u", Self.alice.colonSeparated, localhost]) == "200")

        let dir = try TemporaryDirectory()
        let image = try Self.smallOCI(in: dir.url)
        try await Seeder(registry).push(image, to: "secure/image")
        // skopeo verifies the chain through --cert-dir (it wants *.crt files there).
        let certs = try TemporaryDirectory()
        try FileManager.default.copyItem(at: ca, to: certs.appending("ca.crt"))
        let reference = registry.reference("secure/image", tag: "v1")
        #expect(
            try await Self.servedDigest(
                reference, extra: ["--cert-dir", certs.path, "--creds", Self.alice.colonSeparated]) == image.digest)
        let anonymous = try await ProcessRunner.run(["skopeo", "inspect", "--raw", "--cert-dir", certs.path, reference])
        #expect(anonymous.status != 0)
    }

    @Test("plain HTTP with basic auth")
    func httpBasicAuth() async throws {
        let registry = try await RegistryLauncher.launch(.httpBasicAuth(Self.alice))
        defer { registry.stop() }
        let v2 = "\(registry.url)/v2/"
        #expect(try await Self.status(["-u", Self.alice.colonSeparated, v2]) == "200")
        #expect(try await Self.status([v2]) == "401")
        let htpasswd = try String(
            contentsOf: registry.workDirectory.appendingPathComponent("htpasswd"), encoding: .utf8)
        #expect(htpasswd.hasPrefix("alice:$2y$"), "bcrypt, the only hash registry 2.8 accepts")
    }

    @Test("registries can share one storage root")
    func sharedStorage() async throws {
        let storage = try TemporaryDirectory()
        let dir = try TemporaryDirectory()
        let image = try Self.smallOCI(in: dir.url)
        let plain = try await RegistryLauncher.launch(.http, storageRoot: storage.url)
        defer { plain.stop() }
        try await Seeder(plain).push(image, to: "shared/image")
        let secure = try await RegistryLauncher.launch(.https(basicAuth: nil), storageRoot: storage.url)
        defer { secure.stop() }
        #expect(secure.rootDirectory == storage.url)
        #expect(
            try await Self.servedDigest(
                secure.reference("shared/image", tag: "v1"), extra: ["--tls-verify=false"]) == image.digest)
        secure.stop()
        #expect(FileManager.default.fileExists(atPath: storage.appending("docker").path), "a given root is kept")
    }
}

/// Variants that need `ferry-testkit` (token service, file server); skipped until it has been built.
@Suite("TestSupport: registries with ferry-testkit helpers", .enabled(if: Binaries.isBuilt("ferry-testkit")))
struct TestSupportTestkitRegistryTests {
    @Test("token auth: seeding logs in through the token service; anonymous clients are challenged")
    func tokenAuth() async throws {
        let alice = TestSupportRegistryTests.alice
        let registry = try await RegistryLauncher.launch(.token(users: [alice]))
        defer { registry.stop() }
        let realm = try #require(registry.tokenRealm)
        let ping = try await ProcessRunner.check(["curl", "-s", "-i", "\(registry.url)/v2/"]).stdoutString
        #expect(ping.hasPrefix("HTTP/1.1 401"))
        #expect(ping.contains("Bearer realm=\"\(realm.absoluteString)\""), "\(ping)")

        let dir = try TemporaryDirectory()
        let image = try TestSupportRegistryTests.multiArchDocker(in: dir.url)
        try await Seeder(registry).push(image, to: "token/image")
        let reference = registry.reference("token/image", tag: "multi")
        #expect(
            try await TestSupportRegistryTests.servedDigest(
                reference, extra: ["--tls-verify=false", "--creds", alice.colonSeparated]) == image.digest)
        let wrong = try await ProcessRunner.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", "alice:nope", reference])
        #expect(wrong.status != 0)
    }

    @Test("redirect: blob GETs answer 307 to 127.0.0.2, and the redirected blob is intact")
    func redirect() async throws {
        let registry = try await RegistryLauncher.launch(.redirect)
        defer { registry.stop() }
        let base = try #require(registry.redirectBaseURL)
        #expect(base.host == "127.0.0.2")

        let dir = try TemporaryDirectory()
        let image = try TestSupportRegistryTests.smallOCI(in: dir.url)
        try await Seeder(registry).push(image, to: "redirect/image")
        let layer = try #require(image.manifests.first?.layers.first)
        let blobURL = "\(registry.url)/v2/redirect/image/blobs/\(layer.blob.digest)"
        let first = try await ProcessRunner.check(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", blobURL]).stdoutString
        #expect(first.hasPrefix("307 http://127.0.0.2:"), "\(first)")
        let followed = try await ProcessRunner.check(["curl", "-sSfL", blobURL]).stdout
        #expect(try await LayoutChecks.sha256sum(followed) == layer.blob.digest)

        let target = try TemporaryDirectory()
        try await ProcessRunner.check([
            "skopeo", "copy", "--src-tls-verify=false",
            registry.reference("redirect/image", tag: "v1"), "oci:\(target.path):v1",
        ])
        for blob in image.blobs {
            #expect(try await LayoutChecks.sha256sum(target.appending("blobs/sha256/\(blob.hex)")) == blob.digest)
        }
    }

    @Test("a launcher killed with SIGKILL leaves nothing running or on disk after the next launch")
    func janitor() async throws {
        let dir = try TemporaryDirectory()
        let info = dir.appending("info.json")
        // ferry-testkit's `registry` command is a launcher in another process, which we can kill outright.
        let launcher = try ChildProcess(
            [try Binaries.testkit.path, "registry", "--variant", "redirect", "--info", info.path],
            stdoutFile: dir.appending("out"), stderrFile: dir.appending("err"))
        defer { launcher.stop() }
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: info.path), launcher.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let details = try LayoutChecks.json(info)
        let logFile = try #require(details["logFile"] as? String)
        let work = URL(fileURLWithPath: logFile).deletingLastPathComponent()
        let children = try String(contentsOf: work.appendingPathComponent("children"), encoding: .utf8)
        let pids = children.split(separator: "\n").compactMap { Int32($0.split(separator: "\t").first ?? "") }
        #expect(pids.count == 2, "the file server and the registry")
        #expect(pids.contains(try #require(details["pid"] as? Int32)))

        kill(launcher.pid, SIGKILL)
        #expect(launcher.waitForExit(.seconds(5)))
        #expect(pids.allSatisfy { kill($0, 0) == 0 }, "orphans live on until someone cleans up")

        let next = try await RegistryLauncher.launch(.http)
        next.stop()
        #expect(!FileManager.default.fileExists(atPath: work.path))
        // Killed orphans are reaped by init shortly; until then they are zombies.
        let reaped = ContinuousClock.now + .seconds(5)
        func gone(_ pid: Int32) -> Bool {
            guard kill(pid, 0) == 0 else { return true }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return stat.contains(") Z ")
        }
        while !pids.allSatisfy(gone) && ContinuousClock.now < reaped {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(pids.allSatisfy(gone))
    }
}

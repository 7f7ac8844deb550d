import Foundation
import TestSupport
import Testing

/// Basic auth over TLS with a private CA, and bearer tokens from ferry-testkit's token service.
@Suite struct CopyAuthTests {
    static let user = Credentials(username: "ferry", password: "pw-\(UInt32.random(in: 100_000...999_999))-secret")
    static let spec = ImageSpec(layers: [LayerSpec(size: 500_000), LayerSpec(size: 700_000)], seed: 11)

    @Test("HTTPS + basic auth: --ca-cert and --creds work; each missing piece fails with a hint and no secret")
    func httpsBasic() async throws {
        let registry = try await RegistryLauncher.launch(.https(basicAuth: Self.user))
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(Self.spec, to: work.appending("src"), tag: "t")
        try await Seeder(registry).push(image, to: "sec/app", tag: "t")
        let src = "docker://\(registry.address)/sec/app:t"
        let ca = try #require(registry.caCertPath).path
        let cli = try CLI()

        let ok = try await cli.run(["copy", "--ca-cert", ca, "--creds", Self.user.colonSeparated, src, "oci:\(work.path)/a"])
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(try LayoutCheck.verify("\(work.path)/a") == Set(image.blobs.map(\.digest)))

        let noCA = try await cli.run(["copy", "--creds", Self.user.colonSeparated, src, "oci:\(work.path)/b"])
        #expect(noCA.status == 1)
        #expect(noCA.stderrString.contains("--ca-cert"))

        let wrong = try await cli.run(["copy", "--ca-cert", ca, "--creds", "ferry:wrong-password", src, "oci:\(work.path)/c"])
        #expect(wrong.status == 1)
        #expect(wrong.stderrString.contains("authentication") || wrong.stderrString.contains("denied"))
        #expect(wrong.stderrString.contains("--creds"))
        #expect(!wrong.stderrString.contains("wrong-password"))

        let insecure = try await cli.run(["copy", "--tls-verify=false", "--creds", Self.user.colonSeparated, src, "oci:\(work.path)/d"])
        #expect(insecure.status == 0, "\(insecure.stderrString)")

        // Credentials from a docker config.json named by REGISTRY_AUTH_FILE.
        let auth = Data("\(Self.user.username):\(Self.user.password)".utf8).base64EncodedString()
        let config = work.appending("config.json")
        try #"{"auths":{"\#(registry.address)":{"auth":"\#(auth)"}}}"#.write(to: config, atomically: true, encoding: .utf8)
        let fromFile = try await cli.run(["copy", "--ca-cert", ca, src, "oci:\(work.path)/e"], environment: ["REGISTRY_AUTH_FILE": config.path])
        #expect(fromFile.status == 0, "\(fromFile.stderrString)")

        for r in [ok, noCA, wrong, insecure, fromFile] {
            #expect(!r.stderrString.contains(Self.user.password) && !r.stdoutString.contains(Self.user.password))
        }
    }

    @Test("token auth: a bearer token per scope from the token service; bad or no credentials are refused")
    func token() async throws {
        let registry = try await RegistryLauncher.launch(.token(users: [Self.user]))
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(Self.spec, to: work.appending("src"), tag: "t")
        try await Seeder(registry).push(image, to: "tok/app", tag: "t")
        let src = "docker://\(registry.address)/tok/app:t"
        let cli = try CLI()

        let ok = try await cli.run(["copy", "--creds", Self.user.colonSeparated, src, "oci:\(work.path)/a"])
        #expect(ok.status == 0, "\(ok.stderrString)")
        #expect(try LayoutCheck.verify("\(work.path)/a") == Set(image.blobs.map(\.digest)))

        let wrong = try await cli.run(["copy", "--creds", "ferry:nope", src, "oci:\(work.path)/b"])
        #expect(wrong.status == 1)
        #expect(wrong.stderrString.contains("credentials"))

        let anonymous = try await cli.run(["copy", src, "oci:\(work.path)/c"])
        #expect(anonymous.status == 1)
        #expect(anonymous.stderrString.contains("anonymously") || anonymous.stderrString.contains("credentials"))
        #expect(!FileManager.default.fileExists(atPath: "\(work.path)/c/index.json"))
    }
}

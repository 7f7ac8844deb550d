import Foundation
import TestSupport
import Testing

/// `--verbose` shows the HTTP exchange, never the credentials.
@Suite struct VerboseTests {
    @Test("--verbose against a basic-auth registry: requests and answers shown, password and its base64 nowhere")
    func verboseRedacts() async throws {
        let user = Credentials(username: "ferry", password: "verbose-\(UInt32.random(in: 100_000...999_999))")
        let registry = try await RegistryLauncher.launch(.https(basicAuth: user))
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(ImageSpec(layers: [LayerSpec(size: 100_000)], seed: 77), to: work.appending("src"), tag: "v")
        try await Seeder(registry).push(image, to: "verbose/app", tag: "v")
        let result = try await CLI().run([
            "copy", "--verbose", "--ca-cert", try #require(registry.caCertPath).path, "--creds", user.colonSeparated,
            "docker://\(registry.address)/verbose/app:v", "oci:\(work.path)/out",
        ])
        #expect(result.status == 0, "\(result.stderrString)")
        let err = result.stderrString
        #expect(err.contains("> GET https://\(registry.address)/v2/"))
        #expect(err.contains("< 401"))
        #expect(err.contains("Authorization: <redacted>"))
        let basic = Data("\(user.username):\(user.password)".utf8).base64EncodedString()
        #expect(!err.contains(user.password) && !err.contains(basic))
        #expect(!result.stdoutString.contains(user.password))
        // Nothing Ferry wrote holds the password either.
        let written = FileManager.default.enumerator(atPath: work.path + "/out")?.allObjects as? [String] ?? []
        for name in written {
            if let data = FileManager.default.contents(atPath: work.path + "/out/" + name) {
                #expect(data.range(of: Data(user.password.utf8)) == nil, "\(name)")
            }
        }
    }
}

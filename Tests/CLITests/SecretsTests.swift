import Foundation
import TestSupport
import Testing

/// A password used for a whole save → load job appears nowhere Ferry printed or wrote: output, bundle, sidecar,
/// `--map`, layouts, journals and upload state.
@Suite struct SecretsTests {
    @Test("the password (and its base64) is in no output, no file and no state Ferry wrote")
    func passwordNeverWritten() async throws {
        let password = "s3cret-\(UInt32.random(in: 100_000...999_999))-pw"
        let user = Credentials(username: "airgap", password: password)
        // Pre-generated htpasswd (the launcher's): the registry's own log is not Ferry's.
        let source = try await RegistryLauncher.launch(.https(basicAuth: user))
        defer { source.stop() }
        let target = try await RegistryLauncher.launch(.https(basicAuth: user))
        defer { target.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(ImageSpec(layers: [LayerSpec(size: 3_000_000), LayerSpec(size: 200_000)], seed: 61), to: work.appending("src"), tag: "1")
        try await Seeder(source).push(image, to: "team/app", tag: "1")

        let state = work.appending("state").path
        let cli = try CLI()
        let env = ["XDG_STATE_HOME": state]
        let auth = Data("\(user.username):\(password)".utf8).base64EncodedString()
        let config = work.appending("config.json")
        try #"{"auths":{"\#(source.address)":{"auth":"\#(auth)"},"\#(target.address)":{"auth":"\#(auth)"}}}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let sourceCA = try #require(source.caCertPath).path, targetCA = try #require(target.caCertPath).path
        let out = work.appending("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var results: [ProcessResult] = []
        results.append(try await cli.run(["copy", "--verbose", "--ca-cert", sourceCA, "--creds", user.colonSeparated,
                                          "docker://\(source.address)/team/app:1", "oci:\(out)/layout"], environment: env))
        results.append(try await cli.run(["save", "--progress", "json", "--ca-cert", sourceCA, "--authfile", config.path,
                                          "-o", "\(out)/b.tar", "\(source.address)/team/app:1"], environment: env))
        // 1 MiB chunks: several PATCHes, each journaled under XDG_STATE_HOME while the upload runs.
        results.append(try await cli.run(["load", "--verbose", "--ca-cert", targetCA, "--creds", user.colonSeparated, "--upload-chunk-size", "1MiB",
                                          "--map", "\(out)/map.json", "\(out)/b.tar", "--to", "\(target.address)/mirror"], environment: env))
        results.append(try await cli.run(["load", "--ca-cert", targetCA, "--creds", "airgap:wrong-\(password)",
                                          "\(out)/b.tar", "--to", "\(target.address)/other"], environment: env))
        #expect(results[0].status == 0 && results[1].status == 0 && results[2].status == 0, "\(results.map(\.stderrString))")
        #expect(results[3].status == 1)

        for r in results {
            for text in [r.stdoutString, r.stderrString] {
                #expect(!text.contains(password) && !text.contains(auth))
            }
        }
        // Every file under the output and state directories, bundle included.
        var checked = 0
        for root in [out, state] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let name = walker.nextObject() as? String {
                guard let data = FileManager.default.contents(atPath: root + "/" + name) else { continue }
                checked += 1
                #expect(data.range(of: Data(password.utf8)) == nil, "\(root)/\(name)")
                #expect(data.range(of: Data(auth.utf8)) == nil, "\(root)/\(name)")
            }
        }
        #expect(checked > 5)
        #expect(FileManager.default.fileExists(atPath: "\(out)/map.json"))
    }
}

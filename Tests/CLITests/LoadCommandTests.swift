import Foundation
import OCI
import TestSupport
import Testing

/// `ferry load` of a bundle made by `ferry save`, into a TLS registry with basic auth, under a namespace.
@Suite struct LoadCommandTests {
    @Test("every layout: the images arrive under the namespace with the source's digests, indexes whole, and --map says so")
    func everyLayout() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let user = Credentials(username: "loader", password: "air-gap-2")
        let target = try await RegistryLauncher.launch(.https(basicAuth: user))
        defer { target.stop() }
        let bundle = try await source.bundle("b", [source.appRef, source.toolRef])
        let cli = try CLI()
        let state = source.work.appending("state")
        let scope = source.registry.address.replacingOccurrences(of: ":", with: "-")
        let expected: [(String, [String])] = [
            ("path", ["ns-path/demo/app:1.0", "ns-path/demo/tool:2.0"]),
            ("flat", ["ns-flat/app:1.0", "ns-flat/tool:2.0"]),
            ("scoped", ["ns-scoped/\(scope)/demo/app:1.0", "ns-scoped/\(scope)/demo/tool:2.0"]),
        ]
        for (layout, names) in expected {
            let map = source.work.appending("map-\(layout).json").path
            let r = try await cli.run(
                ["load", bundle, "--to", "\(target.address)/ns-\(layout)", "--layout", layout, "--map", map,
                 "--ca-cert", target.caCertPath!.path, "--creds", user.colonSeparated],
                environment: ["XDG_STATE_HOME": state.path])
            #expect(r.status == 0, "\(layout): \(r.stderrString)")
            #expect(r.stderrString.contains("loaded 2 images into \(target.address)/ns-\(layout)"), "\(r.stderrString)")
            let app = "\(target.address)/\(names[0])", tool = "\(target.address)/\(names[1])"
            #expect(r.stdoutString.contains("\(app) \(source.app.digest)"), "\(r.stdoutString)")
            #expect(r.stdoutString.contains("\(tool) \(source.tool.digest)"))
            #expect(try await LoadKit.servedDigest(app, creds: user.colonSeparated) == source.app.digest)
            #expect(try await LoadKit.servedDigest(tool, creds: user.colonSeparated) == source.tool.digest)

            let entries = try JSONDecoder().decode([[String: String]].self, from: Data(contentsOf: URL(fileURLWithPath: map)))
            #expect(Set(entries.map { $0["target"] ?? "" }) == [app, tool])
            #expect(entries.first { $0["source"] == source.appRef }?["digest"] == source.app.digest)
        }
        // The index arrived whole: every child (attestations too) is there by digest, Docker types kept.
        let base = "\(target.address)/ns-path/demo/app"
        for child in source.app.manifests {
            #expect(try await LoadKit.servedDigest("\(base)@\(child.manifest.digest)", creds: user.colonSeparated) == child.manifest.digest)
        }
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", user.colonSeparated, "docker://\(target.address)/ns-path/demo/tool:2.0"])
        #expect(raw.stdoutString.contains("application/vnd.docker.distribution.manifest.v2+json"))
        #expect(LoadKit.journalFiles(state).isEmpty, "the journal is empty once every blob is committed")
    }

    @Test("ferry copy oci:DIR:TAG docker://REF pushes one layout image with its digest")
    func copyLayoutToRegistry() async throws {
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let image = try ImageBuilder.write(
            ImageSpec(layers: [LayerSpec(size: 200_000), LayerSpec(size: 50_000, compressible: true)], platforms: ["linux/amd64", "linux/arm64"], seed: 63),
            to: work.appending("layout"), tag: "3.1")
        let cli = try CLI()
        let r = try await cli.run(["copy", "oci:\(image.layout.path):3.1", "docker://\(target.address)/pushed/app:3.1"], environment: ["XDG_STATE_HOME": work.appending("state").path])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == image.digest)
        #expect(try await LoadKit.servedDigest("\(target.address)/pushed/app:3.1") == image.digest)
        let again = try await cli.run(["copy", "oci:\(image.layout.path)", "docker://\(target.address)/pushed/app:3.1"])
        #expect(again.status == 0, "the only image of a layout needs no tag: \(again.stderrString)")
    }
}

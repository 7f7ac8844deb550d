import Foundation
import TestSupport
import Testing

/// `ferry inspect` against a real registry, and the same image read from a bundle and a layout.
@Suite struct InspectCommandTests {
    struct Shown: Decodable {
        struct Layer: Decodable { var digest: String }
        var digest: String
        var platforms: [String]
        var layers: [Layer]
        var layersPlatform: String?
        var config: String?
    }

    @Test("an index: its platforms, and the layers of the child --platform names (the first by default), saying which")
    func indexChildren() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(CopyCommandTests.multiArch, to: work.appending("src"), tag: "1.0")
        try await Seeder(registry).push(image, to: "demo/app", tag: "1.0")
        let reference = "\(registry.address)/demo/app:1.0"
        let cli = try CLI()

        for platform in ["linux/amd64", "linux/arm64"] {
            let child = try #require(image.manifests.first { $0.platform.hasPrefix(platform) })
            let r = try await cli.run(["inspect", "--json", "--platform", platform, reference])
            #expect(r.status == 0, "\(r.stderrString)")
            let shown = try JSONDecoder().decode(Shown.self, from: r.stdout)
            #expect(shown.digest == image.digest)
            #expect(shown.layersPlatform?.hasPrefix(platform) == true)
            #expect(shown.config == child.config.digest)
            #expect(shown.layers.map(\.digest) == child.layers.map(\.blob.digest))
        }
        let plain = try await cli.run(["inspect", reference])
        #expect(plain.status == 0, "\(plain.stderrString)")
        #expect(plain.stdoutString.contains("Layers (linux/amd64):"))

        // The same image in a bundle and in a layout, with no registry: the same answer.
        let registryView = try JSONDecoder().decode(Shown.self, from: try await cli.run(["inspect", "--json", reference]).stdout)
        let bundle = work.appending("b.tar").path
        #expect(try await cli.run(["save", "--quiet", "-o", bundle, reference]).status == 0)
        #expect(try await cli.run(["copy", "--quiet", "docker://\(reference)", "oci:\(work.path)/layout:1.0"]).status == 0)
        for local in ["oci-archive:\(bundle):\(reference)", "docker-archive:\(bundle):\(reference)", "oci:\(work.path)/layout:1.0"] {
            let r = try await cli.run(["inspect", "--json", local])
            #expect(r.status == 0, "\(local): \(r.stderrString)")
            let shown = try JSONDecoder().decode(Shown.self, from: r.stdout)
            #expect(shown.digest == registryView.digest || local.hasPrefix("docker-archive:"), "\(local)")
            #expect(shown.config == registryView.config, "\(local)")
            #expect(shown.layers.map(\.digest) == registryView.layers.map(\.digest), "\(local)")
        }

        let missing = try await cli.run(["inspect", "--platform", "linux/s390x", reference])
        #expect(missing.status == 1)
        #expect(missing.stdoutString.isEmpty)
        #expect(missing.stderrString.contains("no image for linux/s390x"), "\(missing.stderrString)")
        #expect(missing.stderrString.contains("linux/arm64"))
    }
}

import Foundation
import OCI
import TestSupport
import Testing

/// `ferry copy docker://… oci:DIR` against real Distribution registries, read back by skopeo.
@Suite struct CopyCommandTests {
    static let multiArch = ImageSpec(
        layers: [LayerSpec(size: 300_000), LayerSpec(size: 1_200_000, compressible: true), LayerSpec(size: 2_000_000)],
        platforms: ["linux/amd64", "linux/arm64/v8"], attestation: true, seed: 7)

    @Test("multi-arch OCI image: the whole index lands verified, and skopeo reads it back with the same digest")
    func multiArchRoundTrip() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(Self.multiArch, to: work.appending("src"), tag: "1.0")
        try await Seeder(registry).push(image, to: "demo/app", tag: "1.0")

        let cli = try CLI()
        let layout = work.appending("out").path
        let result = try await cli.run(["copy", "--progress", "plain", "docker://\(registry.address)/demo/app:1.0", "oci:\(layout)"])
        #expect(result.status == 0, "\(result.stderrString)")
        #expect(result.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == image.digest)
        #expect(result.stderrString.contains("copied"))

        let entries = try LayoutCheck.entries(layout)
        #expect(entries.count == 1)
        #expect(entries.first?.digest == image.digest)
        #expect(entries.first?.refName == "\(registry.address)/demo/app:1.0")
        let reachable = try LayoutCheck.verify(layout)
        #expect(reachable == Set(image.blobs.map(\.digest)))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: layout + "/.ferry/tmp")) ?? []
        #expect(leftovers.filter { $0.hasSuffix(".partial") }.isEmpty)

        // The independent reader: skopeo pushes the layout to a fresh repository; the registry computes the same digest.
        try await ProcessRunner.check(["skopeo", "copy", "--all", "--dest-tls-verify=false", "oci:\(layout):\(registry.address)/demo/app:1.0", "docker://\(registry.address)/roundtrip/app:1.0"])
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.address)/roundtrip/app:1.0"])
        #expect("sha256:" + Codec_sha256(raw.stdout) == image.digest)

        // Run again: everything is already there.
        let again = try await cli.run(["copy", "docker://\(registry.address)/demo/app:1.0", "oci:\(layout)"])
        #expect(again.status == 0)
        #expect(again.stderrString.contains("0 blobs fetched"))
    }

    @Test("--platform keeps one child: the index entry has the child's digest")
    func onePlatform() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(Self.multiArch, to: work.appending("src"), tag: "1.0")
        try await Seeder(registry).push(image, to: "demo/app", tag: "1.0")
        let arm = try #require(image.manifests.first { $0.platform.hasPrefix("linux/arm64") })

        let layout = work.appending("arm").path
        let result = try await CLI().run(["copy", "--platform", "linux/arm64", "docker://\(registry.address)/demo/app:1.0", "oci:\(layout):app"])
        #expect(result.status == 0, "\(result.stderrString)")
        let entries = try LayoutCheck.entries(layout)
        #expect(entries.map(\.digest) == [arm.manifest.digest])
        #expect(entries.first?.refName == "app")
        let reachable = try LayoutCheck.verify(layout)
        #expect(reachable == Set([arm.manifest.digest, arm.config.digest] + arm.layers.map(\.blob.digest)))

        let missing = try await CLI().run(["copy", "--platform", "linux/s390x", "docker://\(registry.address)/demo/app:1.0", "oci:\(layout)"])
        #expect(missing.status == 1)
        #expect(missing.stderrString.contains("linux/s390x"))
        #expect(missing.stderrString.contains("linux/amd64"))
    }

    @Test("Docker media types (manifest list + v2s2) copy byte-exact, checked by Ferry's own reader")
    func dockerTypes() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        var spec = Self.multiArch
        spec.mediaTypes = .docker
        let image = try ImageBuilder.write(spec, to: work.appending("src"), tag: "d")
        try await Seeder(registry).push(image, to: "docker/app", tag: "d")

        let layout = work.appending("out").path
        let result = try await CLI().run(["copy", "docker://\(registry.address)/docker/app:d", "oci:\(layout)"])
        #expect(result.status == 0, "\(result.stderrString)")
        let entries = try LayoutCheck.entries(layout)
        #expect(entries.first?.digest == image.digest)
        #expect(entries.first?.mediaType == MediaType.dockerManifestList.rawValue)
        #expect(try LayoutCheck.verify(layout) == Set(image.blobs.map(\.digest)))
    }

    @Test("blobs behind a cross-host 307 redirect are fetched from 127.0.0.2")
    func redirect() async throws {
        let registry = try await RegistryLauncher.launch(.redirect)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(ImageSpec(layers: [LayerSpec(size: 3_000_000)], seed: 3), to: work.appending("src"), tag: "r")
        try await Seeder(registry).push(image, to: "redir/app", tag: "r")
        let layout = work.appending("out").path
        let result = try await CLI().run(["copy", "docker://\(registry.address)/redir/app:r", "oci:\(layout)"])
        #expect(result.status == 0, "\(result.stderrString)")
        #expect(try LayoutCheck.verify(layout) == Set(image.blobs.map(\.digest)))
    }
}

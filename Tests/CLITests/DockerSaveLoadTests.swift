import Foundation
import OCI
import Stores
import TestSupport
import Testing

/// `ferry load` and `ferry copy` reading what users already have: an old-style `docker save` archive built here,
/// and skopeo's docker-archive and oci-archive files, pushed into a real registry and read back by skopeo.
@Suite struct DockerSaveLoadTests {
    struct Fixture {
        let registry: TestRegistry
        let work: TemporaryDirectory
        /// Two images sharing their first layer (same seed and layer spec), Docker media types.
        let app: BuiltImage
        let tool: BuiltImage

        init() async throws {
            self.registry = try await RegistryLauncher.launch(.http)
            self.work = try TemporaryDirectory(prefix: "ferry-dockersave-")
            self.app = try ImageBuilder.write(
                ImageSpec(layers: [LayerSpec(size: 700_000), LayerSpec(size: 300_000, compressible: true)], mediaTypes: .docker, seed: 71),
                to: self.work.appending("app"), tag: "1.0")
            self.tool = try ImageBuilder.write(
                ImageSpec(layers: [LayerSpec(size: 700_000), LayerSpec(size: 5000)], mediaTypes: .docker, seed: 71),
                to: self.work.appending("tool"), tag: "2.0")
        }
    }

    @Test("an old-style docker save archive (uncompressed <id>/layer.tar, shared layer, manifest.json last) loads with the right config and DiffIDs")
    func oldDockerSaveLoads() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        #expect(f.app.manifests[0].layers[0].diffID == f.tool.manifests[0].layers[0].diffID, "the images share a layer")
        let archive = f.work.appending("old.tar").path
        try ArchiveWriter.dockerSave([(f.app, ["ferry-test/app:1.0", "ferry-test/app:latest"]), (f.tool, ["ferry-test/tool:2.0"])], to: archive)
        let cli = try CLI()

        // verify hashes what no blob name covers: the config against its file name, each layer against its diff_id.
        let verified = try await cli.run(["verify", archive])
        #expect(verified.status == 0, "\(verified.stderrString)")
        #expect(verified.stdoutString.contains("5 blobs"), "\(verified.stdoutString)")
        let member = try #require(try TarReader(path: archive).entries().first { $0.name.hasSuffix("/layer.tar") })
        var damaged = try Data(contentsOf: URL(fileURLWithPath: archive))
        damaged[Int(member.dataOffset + member.size / 2)] ^= 1
        let damagedPath = f.work.appending("damaged.tar").path
        try damaged.write(to: URL(fileURLWithPath: damagedPath))
        let refused = try await cli.run(["verify", damagedPath])
        #expect(refused.status == 1)
        #expect(refused.stderrString.contains("\(member.name) (its config's diff_id"), "\(refused.stderrString)")

        let listed = try await cli.run(["images", archive])
        #expect(listed.status == 0, "\(listed.stderrString)")
        #expect(Set(listed.stdoutString.split(separator: "\n").map(String.init)) == ["docker.io/ferry-test/app:1.0", "docker.io/ferry-test/app:latest", "docker.io/ferry-test/tool:2.0"])

        let load = try await cli.run(["load", "--quiet", "--tls-verify=false", archive, "--to", "\(f.registry.address)/ns"])
        #expect(load.status == 0, "\(load.stderrString)")
        for (image, name) in [(f.app, "ferry-test/app:1.0"), (f.app, "ferry-test/app:latest"), (f.tool, "ferry-test/tool:2.0")] {
            let ref = "docker://\(f.registry.address)/ns/\(name)"
            #expect(try await Served.configDigest(ref) == image.manifests[0].config.digest, "\(name): the config is pushed as stored")
            let want = image.manifests[0].layers.map(\.diffID)
            #expect(try await Served.diffIDs(ref) == want)
            #expect(try await Served.layerDiffIDs(ref, work: f.work) == want, "\(name): the pushed gzip layers unpack to the DiffIDs")
            let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "--tls-verify=false", ref])
            #expect(raw.stdoutString.contains("application/vnd.docker.image.rootfs.diff.tar.gzip"))
        }
        // The digests printed are the ones the registry serves.
        for line in load.stdoutString.split(separator: "\n") {
            let parts = line.split(separator: " ")
            #expect(try await LoadKit.servedDigest(String(parts[0])) == String(parts[1]))
        }

        // The same archive again: every blob is there, the same manifests (compression is deterministic).
        let again = try await cli.run(["load", "--tls-verify=false", "--progress", "plain", archive, "--to", "\(f.registry.address)/ns"])
        #expect(again.status == 0, "\(again.stderrString)")
        #expect(again.stdoutString == load.stdoutString)
        #expect(again.stderrString.contains(" 0 blobs uploaded"), "\(again.stderrString)")
    }

    @Test("ferry copy picks one image of a docker archive by REPO:TAG or @N, and refuses an ambiguous one")
    func copyFromDockerSave() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        let archive = f.work.appending("old.tar").path
        try ArchiveWriter.dockerSave([(f.app, ["ferry-test/app:1.0"]), (f.tool, [])], to: archive)
        let cli = try CLI()

        let ambiguous = try await cli.run(["copy", "--tls-verify=false", "docker-archive:\(archive)", "docker://\(f.registry.address)/x/app:1"])
        #expect(ambiguous.status == 2)
        #expect(ambiguous.stderrString.contains("holds 2 images") && ambiguous.stderrString.contains("@1: (untagged)"), "\(ambiguous.stderrString)")
        let load = try await cli.run(["load", "--tls-verify=false", archive, "--to", "\(f.registry.address)/ns"])
        #expect(load.status == 1)
        #expect(load.stderrString.contains("no RepoTags") && load.stderrString.contains(":@N"), "\(load.stderrString)")

        let byTag = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker-archive:\(archive):ferry-test/app:1.0", "docker://\(f.registry.address)/x/app:1"])
        #expect(byTag.status == 0, "\(byTag.stderrString)")
        #expect(try await Served.configDigest("docker://\(f.registry.address)/x/app:1") == f.app.manifests[0].config.digest)
        let byIndex = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker-archive:\(archive):@1", "docker://\(f.registry.address)/x/tool:1"])
        #expect(byIndex.status == 0, "\(byIndex.stderrString)")
        let ref = "docker://\(f.registry.address)/x/tool:1"
        #expect(try await Served.configDigest(ref) == f.tool.manifests[0].config.digest)
        #expect(try await Served.layerDiffIDs(ref, work: f.work) == f.tool.manifests[0].layers.map(\.diffID))
    }

    @Test("skopeo's docker-archive (layers by DiffID, symlinks inside) and oci-archive are read by ferry copy and ferry load")
    func skopeoArchives() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        let oci = try ImageBuilder.write(ImageSpec(layers: [LayerSpec(size: 400_000), LayerSpec(size: 100)], seed: 72), to: f.work.appending("oci"), tag: "3.0")
        try await Seeder(f.registry).push(f.tool, to: "src/tool", tag: "2.0")
        try await Seeder(f.registry).push(oci, to: "src/oci", tag: "3.0")
        let cli = try CLI()

        // docker-archive: skopeo writes uncompressed <diffid>.tar layers and <id>/layer.tar symlinks to them.
        let docker = f.work.appending("skopeo-docker.tar").path
        try await ProcessRunner.check(["skopeo", "copy", "--src-tls-verify=false", "--additional-tag", "corp/tool:extra", "docker://\(f.registry.address)/src/tool:2.0", "docker-archive:\(docker):corp/tool:2.0"])
        let members = try await ProcessRunner.check(["tar", "tvf", docker]).stdoutString
        #expect(members.contains("layer.tar -> ../"), "skopeo's archive holds symlinks: \(members)")
        let copied = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker-archive:\(docker):corp/tool:2.0", "docker://\(f.registry.address)/fromskopeo/tool:2.0"])
        #expect(copied.status == 0, "\(copied.stderrString)")
        let ref = "docker://\(f.registry.address)/fromskopeo/tool:2.0"
        #expect(try await Served.configDigest(ref) == f.tool.manifests[0].config.digest)
        #expect(try await Served.layerDiffIDs(ref, work: f.work) == f.tool.manifests[0].layers.map(\.diffID))
        let load = try await cli.run(["load", "--quiet", "--tls-verify=false", docker, "--to", "\(f.registry.address)/loaded"])
        #expect(load.status == 0, "\(load.stderrString)")
        #expect(load.stdoutString.contains("/loaded/corp/tool:2.0 ") && load.stdoutString.contains("/loaded/corp/tool:extra "), "\(load.stdoutString)")

        // oci-archive: an OCI-typed image keeps its manifest digest.
        let ociArchive = f.work.appending("skopeo-oci.tar").path
        try await ProcessRunner.check(["skopeo", "copy", "--src-tls-verify=false", "docker://\(f.registry.address)/src/oci:3.0", "oci-archive:\(ociArchive):3.0"])
        let fromOCI = try await cli.run(["copy", "--quiet", "--tls-verify=false", "oci-archive:\(ociArchive):3.0", "docker://\(f.registry.address)/fromskopeo/oci:3.0"])
        #expect(fromOCI.status == 0, "\(fromOCI.stderrString)")
        #expect(fromOCI.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == oci.digest)
        #expect(try await LoadKit.servedDigest("\(f.registry.address)/fromskopeo/oci:3.0") == oci.digest)
    }
}

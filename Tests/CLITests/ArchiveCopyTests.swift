import Foundation
import OCI
import Stores
import TestSupport
import Testing

/// `ferry copy` into `oci-archive:` and `docker-archive:`, read back by skopeo, and archive → registry → archive
/// round trips.
@Suite struct ArchiveCopyTests {
    @Test("ferry copy docker://… oci-archive:FILE:TAG and docker-archive:FILE:REPO:TAG: skopeo reads both with the same digests")
    func registryToArchives() async throws {
        let f = try await SaveCommandTests.Fixture()
        defer { f.registry.stop() }
        let cli = try CLI()

        let oci = f.work.appending("app-oci.tar").path
        let r1 = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker://\(f.multiRef)", "oci-archive:\(oci):1.0"])
        #expect(r1.status == 0, "\(r1.stderrString)")
        #expect(r1.stdoutString.contains(f.multi.digest))
        #expect(!FileManager.default.fileExists(atPath: oci + ".partial"))
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "oci-archive:\(oci):1.0"])
        #expect("sha256:" + Codec_sha256(raw.stdout) == f.multi.digest)
        let verify = try await cli.run(["verify", oci])
        #expect(verify.status == 0, "\(verify.stderrString)")

        let docker = f.work.appending("tool-docker.tar").path
        let r2 = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker://\(f.dockerRef)", "docker-archive:\(docker):corp/tool:2.0"])
        #expect(r2.status == 0, "\(r2.stderrString)")
        let config = try await ProcessRunner.check(["skopeo", "inspect", "--config", "--raw", "docker-archive:\(docker):corp/tool:2.0"])
        #expect("sha256:" + Codec_sha256(config.stdout) == f.docker.manifests[0].config.digest)
        #expect(try await Served.diffIDs("docker-archive:\(docker)") == f.docker.manifests[0].layers.map(\.diffID))
        let entries = try JSONDecoder().decode([DockerArchiveEntry].self, from: try Self.member(docker, "manifest.json"))
        #expect(entries.map(\.repoTags) == [["corp/tool:2.0"]])

        // The multi-arch image into a docker archive: docker load gets linux/amd64.
        let multi = f.work.appending("app-docker.tar").path
        let r3 = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker://\(f.multiRef)", "docker-archive:\(multi):corp/app:1.0"])
        #expect(r3.status == 0, "\(r3.stderrString)")
        let amd64 = try #require(f.multi.manifests.first { $0.platform == "linux/amd64" })
        #expect(try await Served.configDigest("docker-archive:\(multi)") == amd64.config.digest)
    }

    @Test("archive → registry → archive round trips keep digests; local archives copy into oci:DIR and other archives")
    func roundTrips() async throws {
        let f = try await SaveCommandTests.Fixture()
        defer { f.registry.stop() }
        let cli = try CLI()
        let first = f.work.appending("first.tar").path
        #expect(try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker://\(f.multiRef)", "oci-archive:\(first)"]).status == 0)

        // oci-archive → registry: the index digest is kept. The archive names the image by its full source name.
        let back = try await cli.run(["copy", "--quiet", "--tls-verify=false", "oci-archive:\(first):\(f.multiRef)", "docker://\(f.registry.address)/rt/app:1.0"])
        #expect(back.status == 0, "\(back.stderrString)")
        #expect(try await LoadKit.servedDigest("\(f.registry.address)/rt/app:1.0") == f.multi.digest)

        // oci-archive → oci:DIR and → docker-archive, without a registry.
        let layout = f.work.appending("layout").path
        let toLayout = try await cli.run(["copy", "--quiet", "oci-archive:\(first)", "oci:\(layout):v1"])
        #expect(toLayout.status == 0, "\(toLayout.stderrString)")
        try LayoutCheck.verify(layout)
        #expect(try LayoutCheck.entries(layout).map(\.digest) == [f.multi.digest])
        let second = f.work.appending("second.tar").path
        let toDocker = try await cli.run(["copy", "--quiet", "oci:\(layout):v1", "docker-archive:\(second):corp/app:1.0"])
        #expect(toDocker.status == 0, "\(toDocker.stderrString)")
        let amd64 = try #require(f.multi.manifests.first { $0.platform == "linux/amd64" })
        #expect(try await Served.configDigest("docker-archive:\(second)") == amd64.config.digest)
        #expect(try await cli.run(["verify", second]).status == 0)

        // A docker save archive (uncompressed layers) → oci-archive → registry: the same image as a direct copy.
        let save = f.work.appending("old.tar").path
        try ArchiveWriter.dockerSave([(f.docker, ["corp/tool:2.0"])], to: save)
        let viaArchive = f.work.appending("tool-oci.tar").path
        let c1 = try await cli.run(["copy", "--quiet", "docker-archive:\(save)", "oci-archive:\(viaArchive):2.0"])
        #expect(c1.status == 0, "\(c1.stderrString)")
        let c2 = try await cli.run(["copy", "--quiet", "--tls-verify=false", "oci-archive:\(viaArchive):2.0", "docker://\(f.registry.address)/rt/tool:a"])
        let c3 = try await cli.run(["copy", "--quiet", "--tls-verify=false", "docker-archive:\(save)", "docker://\(f.registry.address)/rt/tool:b"])
        #expect(c2.status == 0 && c3.status == 0, "\(c2.stderrString) \(c3.stderrString)")
        #expect(c2.stdoutString == c1.stdoutString && c3.stdoutString == c1.stdoutString, "one manifest digest on every path")
        #expect(try await Served.layerDiffIDs("docker://\(f.registry.address)/rt/tool:a", work: f.work) == f.docker.manifests[0].layers.map(\.diffID))
    }

    static func member(_ tar: String, _ name: String) throws -> Data {
        let entry = try #require(try TarReader(path: tar).entries().first { $0.name == name })
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: tar))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(entry.dataOffset))
        return handle.readData(ofLength: Int(entry.size))
    }
}

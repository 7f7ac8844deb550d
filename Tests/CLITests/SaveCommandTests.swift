import Foundation
import OCI
import Stores
import TestSupport
import Testing

/// `ferry save` and `ferry verify` against a real registry, read back by skopeo.
@Suite struct SaveCommandTests {
    struct Fixture {
        let registry: TestRegistry
        let work: TemporaryDirectory
        let multi: BuiltImage
        let docker: BuiltImage
        var multiRef: String { "\(self.registry.address)/demo/app:1.0" }
        var dockerRef: String { "\(self.registry.address)/demo/tool:2.0" }

        init(layerSize: Int = 600_000) async throws {
            self.registry = try await RegistryLauncher.launch(.http)
            self.work = try TemporaryDirectory()
            self.multi = try ImageBuilder.write(
                ImageSpec(layers: [LayerSpec(size: layerSize), LayerSpec(size: layerSize * 2, compressible: true)],
                          platforms: ["linux/amd64", "linux/arm64"], attestation: true, seed: 21),
                to: self.work.appending("multi"), tag: "1.0")
            self.docker = try ImageBuilder.write(
                ImageSpec(layers: [LayerSpec(size: layerSize), LayerSpec(size: 1000)], mediaTypes: .docker, seed: 22),
                to: self.work.appending("docker"), tag: "2.0")
            try await Seeder(self.registry).push(self.multi, to: "demo/app", tag: "1.0")
            try await Seeder(self.registry).push(self.docker, to: "demo/tool", tag: "2.0")
        }
    }

    @Test("a bundle is an OCI layout and a docker archive: verify passes (and fails on a damaged name), skopeo reads both ways with the same digests")
    func saveVerifyInterop() async throws {
        let f = try await Fixture()
        defer { f.registry.stop() }
        let bundle = f.work.appending("b.tar").path
        let cli = try CLI()
        let save = try await cli.run(["save", "-o", bundle, f.multiRef, "docker://\(f.dockerRef)"])
        #expect(save.status == 0, "\(save.stderrString)")
        #expect(save.stdoutString.contains(f.multi.digest))
        #expect(!FileManager.default.fileExists(atPath: bundle + ".partial"))
        #expect(FileManager.default.fileExists(atPath: bundle + ".ferry.json"))

        let verify = try await cli.run(["verify", bundle])
        #expect(verify.status == 0, "\(verify.stderrString)")
        #expect(verify.stdoutString.contains("OK"))
        let quiet = try await cli.run(["verify", "-q", bundle])
        #expect(quiet.status == 0 && quiet.stdoutString.isEmpty && quiet.stderrString.isEmpty)

        // --progress none drops the progress, not the summary (that is --quiet).
        let again = try await cli.run(["save", "--progress", "none", "-o", f.work.appending("again.tar").path, f.dockerRef])
        #expect(again.status == 0, "\(again.stderrString)")
        #expect(again.stderrString.hasPrefix("saved 1 images to"), "\(again.stderrString)")

        // oci-archive: the OCI-typed multi-arch image pushed to a fresh repository keeps its digest.
        try await ProcessRunner.check(["skopeo", "copy", "--all", "--dest-tls-verify=false", "oci-archive:\(bundle):\(f.multiRef)", "docker://\(f.registry.address)/rt/app:1.0"])
        let raw = try await ProcessRunner.check(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(f.registry.address)/rt/app:1.0"])
        #expect("sha256:" + Codec_sha256(raw.stdout) == f.multi.digest)

        // docker-archive: skopeo rebuilds the manifest; config digest and DiffIDs stay those of linux/amd64.
        let amd64 = try #require(f.multi.manifests.first { $0.platform == "linux/amd64" })
        let config = try await ProcessRunner.check(["skopeo", "inspect", "--config", "--raw", "docker-archive:\(bundle):\(f.multiRef)"])
        #expect("sha256:" + Codec_sha256(config.stdout) == amd64.config.digest)
        let info = try JSONSerialization.jsonObject(with: config.stdout) as? [String: Any]
        let diffIDs = (info?["rootfs"] as? [String: Any])?["diff_ids"] as? [String]
        #expect(diffIDs == amd64.layers.map(\.diffID))
        try await ProcessRunner.check(["skopeo", "copy", "--dest-tls-verify=false", "docker-archive:\(bundle):\(f.dockerRef)", "docker://\(f.registry.address)/rt/tool:2.0"])

        // ferry images lists what a bundle holds.
        let listed = try await cli.run(["images", bundle])
        #expect(listed.status == 0, "\(listed.stderrString)")
        #expect(Set(listed.stdoutString.split(separator: "\n").map(String.init)) == [f.multiRef, f.dockerRef])

        // manifest.json follows docker load's rules: tags, config and layers inside the archive.
        let tar = try TarReader(path: bundle).entries()
        let names = Set(tar.map(\.name))
        for needed in ["oci-layout", "index.json", "manifest.json", "repositories"] { #expect(names.contains(needed)) }
        #expect(names.count == tar.count, "no duplicate members")

        // The docker view of an image must be the image index.json names so: an entry pointing at another image's
        // config and layers (docker load would install that one under this tag) fails verify.
        let members = try TarReader(path: bundle).entries()
        let whole = try Data(contentsOf: URL(fileURLWithPath: bundle))
        func content(_ m: TarReader.Entry) -> Data { whole.subdata(in: Int(m.dataOffset)..<Int(m.dataOffset + m.size)) }
        let manifestMember = try #require(members.first { $0.name == "manifest.json" })
        var docker = try #require(try JSONSerialization.jsonObject(with: content(manifestMember)) as? [[String: Any]])
        let toolAt = try #require(docker.firstIndex { ($0["RepoTags"] as? [String])?.contains { $0.hasSuffix("tool:2.0") } == true })
        let other = docker[1 - toolAt]
        docker[toolAt]["Config"] = other["Config"]
        docker[toolAt]["Layers"] = other["Layers"]
        var swapped: [UInt8] = []
        for m in members where m.kind == .file {
            let data = m.name == "manifest.json" ? try JSONSerialization.data(withJSONObject: docker) : content(m)
            let header = TarHeader(name: m.name, size: Int64(data.count))
            swapped += header.encode() + [UInt8](data) + [UInt8](repeating: 0, count: Int(header.paddedSize) - data.count)
        }
        swapped += [UInt8](repeating: 0, count: 1024)
        let hidden = f.work.appending("hidden.tar").path
        try Data(swapped).write(to: URL(fileURLWithPath: hidden))
        let refused = try await cli.run(["verify", hidden])
        #expect(refused.status == 1, "\(refused.stdoutString)")
        #expect(refused.stderrString.contains("docker load would install another image"), "\(refused.stderrString)")

        // No digest covers the names: one damaged byte in any copy of one (index.json's two, RepoTags) fails verify.
        let original = try Data(contentsOf: URL(fileURLWithPath: bundle))
        // The tag's last digit, in the first name after `key` (JSON may escape the slashes: the tag has none).
        func damaged(after key: String, tag: String) throws -> String {
            let keyAt = try #require(original.range(of: Data(key.utf8)))
            let tagAt = try #require(original.range(of: Data("\(tag)\"".utf8), in: keyAt.upperBound..<original.count))
            var bytes = original
            bytes[tagAt.lowerBound + tag.utf8.count - 1] ^= 1
            let path = f.work.appending("damaged-\(key.filter(\.isLetter)).tar").path
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        }
        for (key, tag, expected) in [
            (AnnotationKey.containerdImageName, ":1.0", "is named"),
            (AnnotationKey.refName, ":1.0", "is named"),
            ("RepoTags", ":2.0", "RepoTag"),
        ] {
            let r = try await cli.run(["verify", try damaged(after: key, tag: tag)])
            #expect(r.status == 1, "\(key): \(r.stdoutString)")
            #expect(r.stderrString.contains(expected), "\(key): \(r.stderrString)")
        }
    }

    @Test("SIGKILL half way through a save, then the same command: the bundle completes and verifies, finished blobs are kept")
    func killAndResume() async throws {
        let f = try await Fixture(layerSize: 6_000_000)
        defer { f.registry.stop() }
        let proxy = try spawn(
            [Binaries.testkit.path, "proxy", "--listen", "127.0.0.1:0", "--upstream", f.registry.address, "--fault", "throttle=4000000,path=/blobs/"],
            in: f.work)
        defer { proxy.stop() }
        let proxyAddress = try await Self.listening(proxy)
        let bundle = f.work.appending("k.tar").path
        // One blob and one connection at a time, so the kill lands between finished blobs and inside a started one.
        let args = ["save", "--quiet", "--jobs", "1", "--connections", "1", "--chunk-size", "1MiB", "-o", bundle, "\(proxyAddress)/demo/app:1.0", "\(proxyAddress)/demo/tool:2.0"]
        let cli = try CLI()

        let first = try spawn([Binaries.ferry.path] + args, in: f.work, environment: ["HOME": cli.home.path])
        let state = bundle + ".partial.ferry"
        // Wait until some blobs are done or chunks are journaled, then kill hard.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
            if files.contains(where: { $0.hasSuffix(".done") }) && files.contains(where: { $0.hasSuffix(".journal") }) { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(first.pid, SIGKILL)
        _ = first.waitForExit(.seconds(5))
        #expect(!FileManager.default.fileExists(atPath: bundle), "nothing at the final path before verification")
        let doneBefore = ((try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []).filter { $0.hasSuffix(".done") }.count
        #expect(doneBefore > 0)

        let second = try await cli.run(args)
        #expect(second.status == 0, "\(second.stderrString)")
        let verify = try await cli.run(["verify", bundle])
        #expect(verify.status == 0, "\(verify.stderrString)")
        try await ProcessRunner.check(["skopeo", "inspect", "--raw", "oci-archive:\(bundle):\(proxyAddress)/demo/app:1.0"])
    }

    @Test("a bundle's directory must exist (an unmounted drive is not created underneath): a plain message, nothing written")
    func missingDirectory() async throws {
        let f = try await Fixture(layerSize: 1000)
        defer { f.registry.stop() }
        let cli = try CLI()
        let missing = f.work.appending("usb").path
        for output in ["\(missing)/akko.tar", "\(missing)/akko.tar.zst"] {
            let r = try await cli.run(["save", "-o", output, f.dockerRef])
            #expect(r.status == 1)
            #expect(r.stderrString.contains("\(missing): No such file or directory"), "\(r.stderrString)")
            #expect(!r.stderrString.contains("NSCocoaErrorDomain"))
            #expect(!FileManager.default.fileExists(atPath: missing))
        }
        let file = f.work.appending("file").path
        FileManager.default.createFile(atPath: file, contents: Data())
        let r = try await cli.run(["save", "-o", "\(file)/akko.tar", f.dockerRef])
        #expect(r.status == 1)
        #expect(r.stderrString.contains("is not a directory"), "\(r.stderrString)")
    }

    @Test("verify refuses hostile and damaged archives with a list of problems")
    func hostileArchives() async throws {
        let dir = try TemporaryDirectory()
        func tar(_ name: String, _ members: [(TarHeader, [UInt8])]) throws -> String {
            var bytes: [UInt8] = []
            for (h, content) in members {
                bytes += h.encode() + content + [UInt8](repeating: 0, count: Int(h.paddedSize) - content.count)
            }
            bytes += [UInt8](repeating: 0, count: 1024)
            let path = dir.appending(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let layout = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
        let index = Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
        let cli = try CLI()
        let cases: [(String, [(TarHeader, [UInt8])], String)] = [
            ("abs.tar", [(TarHeader(name: "oci-layout", size: Int64(layout.count)), layout), (TarHeader(name: "/etc/evil", size: 1), [1])], "unsafe path"),
            ("dots.tar", [(TarHeader(name: "oci-layout", size: Int64(layout.count)), layout), (TarHeader(name: "blobs/../../evil", size: 1), [1])], "unsafe path"),
            ("link.tar", [(TarHeader(name: "oci-layout", size: Int64(layout.count)), layout), (TarHeader(name: "blobs/sha256/x", size: 0, kind: .symbolicLink, linkName: "../../../etc/passwd"), [])], "leaves the archive"),
            ("dup.tar", [(TarHeader(name: "oci-layout", size: Int64(layout.count)), layout), (TarHeader(name: "index.json", size: Int64(index.count)), index), (TarHeader(name: "index.json", size: Int64(index.count)), index)], "appears twice"),
        ]
        for (name, members, expected) in cases {
            let path = try tar(name, members)
            let r = try await cli.run(["verify", path])
            #expect(r.status == 1, "\(name)")
            #expect(r.stderrString.contains(expected), "\(name): \(r.stderrString)")
        }
        // A lying size: the header promises more than the file holds.
        let lying = try tar("lying.tar", [(TarHeader(name: "oci-layout", size: Int64(layout.count)), layout)])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: lying))
        var header = TarHeader(name: "blobs/sha256/aa", size: 1 << 40).encode()
        header = Array(header)
        bytes.replaceSubrange(1024..<1536, with: header)
        try bytes.write(to: URL(fileURLWithPath: lying))
        let r = try await cli.run(["verify", lying])
        #expect(r.status == 1)
        #expect(r.stderrString.contains("truncated"))
    }

    static func listening(_ process: ChildProcess) async throws -> String {
        for _ in 0..<200 {
            if let line = process.stdout().split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                return String(line.dropFirst("listening ".count))
            }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        throw TestSupportError("proxy did not start: \(process.stderr())")
    }
}

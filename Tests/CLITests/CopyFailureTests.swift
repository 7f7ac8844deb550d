import Foundation
import TestSupport
import Testing

/// Failures give one line naming the image and the cause, the right exit code, and nothing unverified behind.
@Suite struct CopyFailureTests {
    @Test("usage errors exit 2")
    func usage() async throws {
        let cli = try CLI()
        let badRef = try await cli.run(["copy", "docker://example.com/UPPER:x", "oci:/tmp/never"])
        #expect(badRef.status == 2)
        #expect(badRef.stderrString.contains("lowercase"))
        let noTransport = try await cli.run(["copy", "nginx", "oci:/tmp/never"])
        #expect(noTransport.status == 2)
        #expect(noTransport.stderrString.contains("docker://"))
        let badPlatform = try await cli.run(["copy", "--platform", "linux", "docker://a.example/b", "oci:/tmp/never"])
        #expect(badPlatform.status == 2)
    }

    @Test("ordinary mistakes get a message that names them (a URL for a reference, skopeo's other transports, a registry for verify, a file that is not a tar or a CA)")
    func ordinaryMistakes() async throws {
        let cli = try CLI()
        let work = try TemporaryDirectory()
        let empty = work.appending("empty.tar").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        let notPEM = work.appending("ca.pem").path
        FileManager.default.createFile(atPath: notPEM, contents: Data("web:\n  image: nginx\n".utf8))
        let cases: [([String], Int32, String)] = [
            (["inspect", "http://127.0.0.1:9/app:1"], 2, "without http:// or https://"),
            (["load", empty, "--to", "https://127.0.0.1:9/ns"], 2, "without http:// or https://"),
            (["load", empty, "--to", "127.0.0.1:9/NS5"], 2, "--to 127.0.0.1:9/NS5: repository names must be lowercase"),
            (["copy", "docker://a.example/b:1", "dir:\(work.path)/d"], 2, "skopeo's dir: transport"),
            (["verify", "docker://127.0.0.1:9/app:1"], 2, "offline"),
            (["verify", empty], 1, "is not a tar archive: it is empty"),
            (["verify", "oci-archive:\(empty):app:1"], 1, "is not a tar archive"),
            (["sync", "-f", work.path, "--to", "127.0.0.1:9/ns"], 2, "is a directory"),
            (["inspect", "--ca-cert", notPEM, "127.0.0.1:9/app:1"], 1, "holds no PEM certificate"),
        ]
        for (args, status, message) in cases {
            let r = try await cli.run(args)
            #expect(r.status == status, "\(args): \(r.stderrString)")
            #expect(r.stderrString.contains(message), "\(args): \(r.stderrString)")
            #expect(!r.stderrString.contains("/NS5/x"), "\(args): \(r.stderrString)")
        }
    }

    @Test("numbers out of range are usage errors in every command that moves images, before anything is fetched")
    func numbersOutOfRange() async throws {
        let cli = try CLI()
        let commands = [
            ["copy", "docker://127.0.0.1:9/a:1", "oci:/tmp/never"], ["save", "-o", "/tmp/never.tar", "127.0.0.1:9/a:1"],
            ["sync", "--to", "127.0.0.1:9/ns", "127.0.0.1:9/a:1"],
        ]
        for command in commands {
            for (option, message) in [
                ("--jobs=0", "--jobs must be at least 1"), ("--connections=-2", "--connections must be at least 1"),
                ("--stall-timeout=0", "--stall-timeout must be more than 0"), ("--retries=-1", "--retries must be 0"),
                ("--split-after=-1", "--split-after must be 0"),
            ] {
                let r = try await cli.run([command[0], option] + command.dropFirst())
                #expect(r.status == 2, "\(command[0]) \(option): \(r.stderrString)")
                #expect(r.stderrString.contains(message), "\(command[0]) \(option): \(r.stderrString)")
            }
        }
        let load = try await cli.run(["load", "--stall-timeout=0", "/tmp/never.tar", "--to", "127.0.0.1:9/ns"])
        #expect(load.status == 2)
        #expect(load.stderrString.contains("--stall-timeout must be more than 0"))
    }

    @Test("unknown manifest and unreachable registry exit 1 with the cause")
    func notFoundAndUnreachable() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let cli = try CLI()
        let missing = try await cli.run(["copy", "docker://\(registry.address)/no/such:tag", "oci:\(work.path)/x"])
        #expect(missing.status == 1)
        #expect(missing.stderrString.contains("no/such:tag"))
        #expect(missing.stderrString.contains("not found"))

        let port = try FreePort.pick()
        let down = try await cli.run(["copy", "docker://127.0.0.1:\(port)/a/b:c", "oci:\(work.path)/y"])
        #expect(down.status == 1)
        #expect(down.stderrString.contains("cannot connect"))
    }

    @Test("a registry serving corrupt blob content: digest mismatch, exit 1, nothing unverified at a final path")
    func corruptBlob() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let image = try ImageBuilder.write(ImageSpec(layers: [LayerSpec(size: 400_000), LayerSpec(size: 600_000)], seed: 5), to: work.appending("src"), tag: "c")
        try await Seeder(registry).push(image, to: "bad/app", tag: "c")
        // Flip bytes of one layer inside the registry's own storage: it serves what is on disk, unchecked.
        let victim = try #require(image.manifests.first?.layers.last?.blob)
        let stored = registry.rootDirectory.appendingPathComponent("docker/registry/v2/blobs/sha256/\(victim.hex.prefix(2))/\(victim.hex)/data")
        var bytes = try Data(contentsOf: stored)
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: stored)

        let layout = "\(work.path)/out"
        let result = try await CLI().run(["copy", "--retries", "1", "docker://\(registry.address)/bad/app:c", "oci:\(layout)"])
        #expect(result.status == 1)
        #expect(result.stderrString.contains(victim.digest))
        #expect(result.stderrString.contains("digest"))
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/blobs/sha256/\(victim.hex)"))
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/.ferry/tmp/\(victim.hex).partial"))
        #expect(!FileManager.default.fileExists(atPath: "\(layout)/index.json"))
        // Whatever did land is verified.
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(layout)/blobs/sha256") {
            #expect(Codec_sha256(try Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(name)"))) == name)
        }
    }
}

import Foundation
import Stores
import TestSupport
import Testing

/// Crafted archives given to `ferry load`, `ferry copy … oci:DIR` and `ferry images`: each is refused with a
/// message naming the problem, exits non-zero, and nothing is written outside the destination.
@Suite struct HostileArchiveTests {
    typealias Member = ArchiveWriter.Member

    /// A valid one-image docker archive's members (skopeo's layout), to be spoiled one way per case.
    static func valid(layer: [UInt8]) -> (members: [Member], config: [UInt8]) {
        let diffID = "sha256:" + Codec_sha256(Data(layer))
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(diffID)"]}}"#.utf8)
        let configName = Codec_sha256(Data(config)) + ".json"
        let layerName = String(diffID.dropFirst(7)) + ".tar"
        let manifest = Array(#"[{"Config":"\#(configName)","RepoTags":["evil/app:1"],"Layers":["\#(layerName)"]}]"#.utf8)
        return ([Member(name: layerName, bytes: layer), Member(name: configName, bytes: config), Member(name: "manifest.json", bytes: manifest)], config)
    }

    /// A small layer tar holding one file.
    static func layerTar() throws -> [UInt8] {
        let content = Array("hello\n".utf8)
        var bytes = TarHeader(name: "hello.txt", size: Int64(content.count)).encode() + content
        bytes += [UInt8](repeating: 0, count: 512 - content.count) + [UInt8](repeating: 0, count: 1024)
        return bytes
    }

    @Test("crafted paths, links out, duplicates, truncation, lying sizes, huge JSON and a wrong DiffID are refused")
    func refused() async throws {
        let dir = try TemporaryDirectory(prefix: "ferry-hostile-")
        let layer = try Self.layerTar()
        let (good, _) = Self.valid(layer: layer)
        let manifest = good[2]
        var cases: [(String, [Member], String)] = [
            ("dotdot", [Member(name: "../escape.txt", bytes: [1])] + good, "unsafe path"),
            ("absolute", [Member(name: "/tmp/ferry-hostile-abs", bytes: [1])] + good, "unsafe path"),
            ("link-out", [Member(name: "x/layer.tar", kind: .symbolicLink, link: "../../../../etc/passwd")] + good, "leaves the archive"),
            ("abs-link", [Member(name: "x/layer.tar", kind: .symbolicLink, link: "/etc/passwd")] + good, "leaves the archive"),
            ("hardlink-out", [Member(name: "y", kind: .hardLink, link: "../etc/shadow")] + good, "leaves the archive"),
            ("dangling", [Member(name: "x/layer.tar", kind: .symbolicLink, link: "../nothing.tar")] + good, "not in the archive"),
            ("duplicate", good + [manifest], "appears twice"),
            ("dir-and-file", good + [Member(name: "manifest.json/", kind: .directory)], "appears twice"),
            ("huge-json", [good[0], good[1], Member(name: "manifest.json", bytes: [UInt8](repeating: 0x20, count: 17 << 20))], "too large"),
            ("no-config", [good[0], manifest], "is not in the archive"),
        ]
        // A layer whose bytes do not unpack to the config's DiffID.
        var damaged = layer
        damaged[600] ^= 0xff
        cases.append(("wrong-diffid", [Member(name: good[0].name, bytes: damaged), good[1], manifest], "the archive is damaged"))

        let cli = try CLI()
        for (name, members, expected) in cases {
            let path = dir.appending(name + ".tar").path
            try ArchiveWriter.tar(members, to: path)
            let destination = dir.appending("out-\(name)").path
            let before = try Self.listing(dir.path)
            let load = try await cli.run(["load", "--tls-verify=false", path, "--to", "127.0.0.1:9/ns"])
            #expect(load.status == 1, "\(name): \(load.stderrString)")
            #expect(load.stderrString.contains(expected), "\(name): \(load.stderrString)")
            let copy = try await cli.run(["copy", "docker-archive:\(path)", "oci:\(destination)"])
            #expect(copy.status == 1, "\(name): \(copy.stderrString)")
            #expect(copy.stderrString.contains(expected), "\(name): \(copy.stderrString)")
            // Nothing new beside the archives, and no blob in the destination.
            let after = try Self.listing(dir.path).subtracting(["out-\(name)"])
            #expect(after == before, "\(name) wrote \(after.subtracting(before))")
            let blobs = (try? FileManager.default.contentsOfDirectory(atPath: destination + "/blobs/sha256")) ?? []
            #expect(blobs.isEmpty, "\(name) left blobs: \(blobs)")
            // images lists nothing from an archive load and copy refuse as unsafe (it read the last of two manifests).
            if ["unsafe path", "leaves the archive", "appears twice"].contains(expected) {
                let images = try await cli.run(["images", path])
                #expect(images.status == 1 && images.stdoutString.isEmpty, "\(name): \(images.stdoutString)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ferry-hostile-abs"))
        #expect(!FileManager.default.fileExists(atPath: dir.url.deletingLastPathComponent().appendingPathComponent("escape.txt").path))
    }

    @Test("truncated archives and members whose size runs past the end of the file are refused")
    func truncated() async throws {
        let dir = try TemporaryDirectory(prefix: "ferry-hostile-")
        let (good, _) = Self.valid(layer: try Self.layerTar())
        let cli = try CLI()
        // The layer's header promises 1 MiB; the file ends long before.
        let lying = dir.appending("lying.tar").path
        try ArchiveWriter.tar([good[1], good[2], Member(name: good[0].name, bytes: Array(good[0].bytes.prefix(700)), claimedSize: 1 << 20)], to: lying, trailer: false)
        // Cut in the middle of the last member's data.
        let cut = dir.appending("cut.tar").path
        try ArchiveWriter.tar(good, to: cut)
        let whole = try Data(contentsOf: URL(fileURLWithPath: cut))
        try whole.prefix(1024 + 900).write(to: URL(fileURLWithPath: cut))
        for path in [lying, cut] {
            let load = try await cli.run(["load", "--tls-verify=false", path, "--to", "127.0.0.1:9/ns"])
            #expect(load.status == 1, "\(path): \(load.stderrString)")
            #expect(load.stderrString.contains("truncated"), "\(path): \(load.stderrString)")
            let images = try await cli.run(["images", path])
            #expect(images.status != 0, "\(path): \(images.stdoutString)")
        }
    }

    static func listing(_ path: String) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: path))
    }
}

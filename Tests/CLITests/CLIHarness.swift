import Foundation
import OCI
import TestSupport
import Testing

/// Runs the built `ferry` binary the way a user does, with a private HOME so the machine's docker config is not read.
struct CLI {
    let home: TemporaryDirectory

    init() throws {
        self.home = try TemporaryDirectory(prefix: "ferry-home-")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        var env = ["HOME": self.home.path, "REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": ""]
        env.merge(environment) { $1 }
        return try await ProcessRunner.run([Binaries.ferry.path] + arguments, environment: env)
    }
}

/// Checks an OCI layout the way a strict reader would: every blob's sha256 is its name, and everything
/// the index references (recursively) is present with the right size.
enum LayoutCheck {
    struct Entry {
        var digest: String
        var refName: String?
        var mediaType: String
    }

    static func entries(_ layout: String) throws -> [Entry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))
        let index = try JSONDecoder().decode(ImageIndex.self, from: data)
        return index.manifests.map { Entry(digest: $0.digest.description, refName: $0.annotations?[AnnotationKey.refName], mediaType: $0.mediaType.rawValue) }
    }

    /// Returns the digests reachable from the index; fails the test on any inconsistency.
    @discardableResult
    static func verify(_ layout: String) throws -> Set<String> {
        let blobDir = layout + "/blobs/sha256"
        for name in try FileManager.default.contentsOfDirectory(atPath: blobDir) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: blobDir + "/" + name))
            let actual = Codec_sha256(bytes)
            #expect(actual == name, "blob \(name) has content \(actual)")
        }
        var reachable = Set<String>()
        let data = try Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))
        let index = try JSONDecoder().decode(ImageIndex.self, from: data)
        var queue = index.manifests
        while let d = queue.popLast() {
            guard reachable.insert(d.digest.description).inserted else { continue }
            let path = blobDir + "/" + d.digest.hex
            let bytes = try #require(FileManager.default.contents(atPath: path), "missing \(d.digest)")
            #expect(Int64(bytes.count) == d.size, "size of \(d.digest)")
            if d.mediaType.isManifest {
                let raw = try RawManifest(bytes: [UInt8](bytes), mediaType: d.mediaType)
                switch try raw.parse() {
                case .index(let i): queue += i.manifests
                case .image(let m): queue += m.blobs
                }
            }
        }
        return reachable
    }
}

import Codec

func Codec_sha256(_ data: Data) -> String {
    var h = SHA256()
    data.withUnsafeBytes { h.update($0) }
    return h.hexDigest()
}

/// Starts a long-running child with its output in files under `directory`.
func spawn(_ argv: [String], in directory: TemporaryDirectory, environment: [String: String] = [:]) throws -> ChildProcess {
    let tag = UUID().uuidString.prefix(8)
    return try ChildProcess(
        argv, stdoutFile: directory.appending("\(tag).out"), stderrFile: directory.appending("\(tag).err"), environment: environment)
}

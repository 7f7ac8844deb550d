import Foundation
import OCI
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Shared parts of the Load*Tests: a source registry and a bundle made by `ferry save`, layouts named the way
// `ferry load oci:DIR` wants, the fault proxy's counters for uploads, and the upload journal's directory.

/// `ferry-testkit proxy` in front of a target registry, read for what uploads did (`/__testkit/stats`).
final class UploadProxy: Sendable {
    let process: ChildProcess
    /// `127.0.0.1:PORT`: use it as the registry in `--to`.
    let address: String
    private let work: TemporaryDirectory

    private init(process: ChildProcess, address: String, work: TemporaryDirectory) {
        self.process = process
        self.address = address
        self.work = work
    }

    static func start(upstream: String, faults: [String] = []) async throws -> UploadProxy {
        let work = try TemporaryDirectory(prefix: "ferry-upload-proxy-")
        var argv = [try Binaries.testkit.path, "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream]
        for fault in faults { argv += ["--fault", fault] }
        let child = try ChildProcess(argv, stdoutFile: work.appending("stdout"), stderrFile: work.appending("stderr"))
        for _ in 0..<1000 {
            if let line = child.stdout().split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                return UploadProxy(process: child, address: String(line.dropFirst("listening ".count)).trimmingCharacters(in: .whitespaces), work: work)
            }
            guard child.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        child.stop()
        throw TestSupportError("ferry-testkit proxy did not start: \(child.stderr())")
    }

    func stop() { self.process.stop() }

    struct ClassStats: Decodable, Sendable {
        var requests: Int
        var requestBodyBytes: Int
    }

    struct FaultStats: Decodable, Sendable {
        var kind: String
        var matched: Int
    }

    struct Stats: Decodable, Sendable {
        var requests: Int
        var requestBodyBytes: Int
        var byClass: [String: ClassStats]
        var statuses: [String: Int]
        var faults: [FaultStats]
        var held: Int

        var uploads: ClassStats { self.byClass["uploads"] ?? ClassStats(requests: 0, requestBodyBytes: 0) }
        func status(_ code: Int) -> Int { self.statuses[String(code)] ?? 0 }
    }

    func stats() async throws -> Stats {
        let r = try await ProcessRunner.check(["curl", "-sS", "--max-time", "10", "http://\(self.address)/__testkit/stats"])
        return try JSONDecoder().decode(Stats.self, from: r.stdout)
    }

    /// Replaces the faults with a JSON array of fault objects.
    func setFaults(_ json: String) async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "--data-binary", json, "http://\(self.address)/__testkit/faults"])
    }

    /// Clears faults and counters and lets held requests go.
    func reset() async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "http://\(self.address)/__testkit/reset"])
    }

    func release(count: Int) async throws {
        try await ProcessRunner.check(["curl", "-sS", "--fail", "--max-time", "10", "-X", "POST", "http://\(self.address)/__testkit/release?count=\(count)"])
    }

    /// Waits until `condition` holds for the stats, or fails after `seconds`.
    func waitFor(_ what: String, seconds: Double = 20, _ condition: (Stats) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(try await self.stats()) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("timed out waiting for the proxy: \(what)")
    }
}

/// A source registry with images, and a bundle of them made by `ferry save`.
struct LoadSource: Sendable {
    let registry: TestRegistry
    let work: TemporaryDirectory
    /// Multi-arch OCI index with attestations.
    let app: BuiltImage
    /// Docker media types, two layers.
    let tool: BuiltImage

    var appRef: String { "\(self.registry.address)/demo/app:1.0" }
    var toolRef: String { "\(self.registry.address)/demo/tool:2.0" }
    /// The same image as `toolRef` in another repository: every blob is shared.
    var toolCopyRef: String { "\(self.registry.address)/other/tool:2.0" }

    static func launch() async throws -> LoadSource {
        let registry = try await RegistryLauncher.launch(.http)
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let app = try ImageBuilder.write(
            ImageSpec(layers: [LayerSpec(size: 300_000), LayerSpec(size: 600_000, compressible: true)],
                      platforms: ["linux/amd64", "linux/arm64"], attestation: true, seed: 61),
            to: work.appending("app"), tag: "1.0")
        let tool = try ImageBuilder.write(
            ImageSpec(layers: [LayerSpec(size: 400_000), LayerSpec(size: 2000)], mediaTypes: .docker, seed: 62),
            to: work.appending("tool"), tag: "2.0")
        try await Seeder(registry).push(app, to: "demo/app", tag: "1.0")
        try await Seeder(registry).push(tool, to: "demo/tool", tag: "2.0")
        try await Seeder(registry).push(tool, to: "other/tool", tag: "2.0")
        return LoadSource(registry: registry, work: work, app: app, tool: tool)
    }

    /// `ferry save -o NAME.tar REFS…`.
    func bundle(_ name: String, _ references: [String]) async throws -> String {
        let path = self.work.appending(name + ".tar").path
        let r = try await CLI().run(["save", "--quiet", "-o", path] + references)
        guard r.status == 0 else { throw TestSupportError("ferry save failed: \(r.stderrString)") }
        return path
    }
}

/// Test parts that do not need a source registry.
enum LoadKit {
    /// Writes a synthetic image as a layout whose `index.json` entry carries a full name, as `ferry load oci:DIR`
    /// needs (ImageBuilder writes only the tag in `ref.name`, as skopeo does).
    static func namedLayout(_ spec: ImageSpec, name: String, at dir: URL) throws -> BuiltImage {
        let tag = name.split(separator: ":").last.map(String.init) ?? "latest"
        let image = try ImageBuilder.write(spec, to: dir, tag: tag)
        let indexURL = dir.appendingPathComponent("index.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as! [String: Any]
        var entries = index["manifests"] as! [[String: Any]]
        var annotations = entries[0]["annotations"] as? [String: String] ?? [:]
        annotations["io.containerd.image.name"] = name
        entries[0]["annotations"] = annotations
        index["manifests"] = entries
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(to: indexURL)
        return image
    }

    /// sha256 of the manifest a registry serves for `reference`, read by skopeo (an independent client).
    static func servedDigest(_ reference: String, creds: String? = nil) async throws -> String {
        var argv = ["skopeo", "inspect", "--raw", "--tls-verify=false"]
        if let creds { argv += ["--creds", creds] }
        let r = try await ProcessRunner.check(argv + ["docker://" + reference])
        return "sha256:" + Codec_sha256(r.stdout)
    }

    /// The files of the upload journal under `$XDG_STATE_HOME`.
    static func journalFiles(_ stateHome: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateHome.path + "/ferry/uploads")) ?? []).filter { $0.hasSuffix(".json") }
    }

    /// Bytes the registry holds in unfinished uploads under `repository` (its `_uploads/*/data` files).
    static func pendingUploadBytes(_ registry: TestRegistry, repository: String) -> [Int] {
        let dir = registry.rootDirectory.path + "/docker/registry/v2/repositories/\(repository)/_uploads"
        let uploads = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return uploads.compactMap { id in
            (try? FileManager.default.attributesOfItem(atPath: "\(dir)/\(id)/data"))?[.size] as? Int
        }
    }
}

import Foundation
import OCI
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Shared parts of the Load*Tests: a source registry and a bundle made by `ferry save`, layouts named the way
// `ferry load oci:DIR` wants, the fault proxy's counters for uploads, and the upload journal's directory.

/// The fault proxy in front of a target registry, read for what uploads did.
typealias UploadProxy = FaultProxy

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

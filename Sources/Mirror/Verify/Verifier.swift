import Foundation
import OCI
import Stores

/// `ferry verify`: checks a bundle or layout offline — every blob's size and sha256, every reference present,
/// `manifest.json` consistent with `index.json` and with `docker load`'s rules, and tar members safe.
public struct Verifier: Sendable {
    public struct Report: Sendable {
        public var images: [String] = []
        public var blobs = 0
        public var bytes: Int64 = 0
        public var problems: [String] = []
        /// A delta bundle, and how many referenced blobs it leaves to its base.
        public var isDelta = false
        public var leftToBase = 0
        public var ok: Bool { self.problems.isEmpty }
    }

    public init() {}

    /// `BUNDLE.tar`, `BUNDLE.tar.zst`, `BUNDLE.tar.gz` or `oci:DIR` (a plain directory path works too).
    public func verify(_ target: String, jobs: Int = 2) async throws -> Report {
        if target.hasPrefix("docker://") {
            throw MirrorError(.usage, "verify checks files, offline: a bundle or oci:DIR; to check \(target), copy it to oci:DIR first and verify that")
        }
        let target = Self.archivePath(target)
        let archive: any ImageArchive
        var report = Report()
        if target.hasPrefix("oci:") || Self.isDirectory(target) {
            var path = target.hasPrefix("oci:") ? String(target.dropFirst(4)) : target
            if !Self.isDirectory(path), let colon = path.lastIndex(of: ":") { path = String(path[..<colon]) }
            guard Self.isDirectory(path) else { throw MirrorError(.usage, "\(path) is not a directory") }
            archive = DirectoryArchive(root: path)
        } else {
            guard FileManager.default.fileExists(atPath: target) else { throw MirrorError(.usage, "\(target) does not exist") }
            do {
                if CompressedTarFile.format(of: target) != nil {
                    // One pass in order, every frame checked against the index and every member hashed as it
                    // streams by: minutes for a large bundle, so on a thread of its own, not the cooperative pool.
                    let compressed = try await offPool { try CompressedTarArchive(path: target, hashing: true) }
                    report.problems += compressed.problems
                    archive = compressed
                } else {
                    let tar = try TarArchive(path: target)
                    report.problems += tar.problems
                    archive = tar
                }
            } catch let e as StoreError {
                report.problems.append(e.message)
                return report
            }
        }
        try await self.check(archive, into: &report, jobs: jobs)
        return report
    }

    private func check(_ archive: any ImageArchive, into report: inout Report, jobs: Int) async throws {
        let hasLayout = archive.contains("oci-layout")
        let hasDocker = archive.contains("manifest.json")
        if !hasLayout && !hasDocker {
            report.problems.append("\(archive.description) is neither an OCI image layout (no oci-layout) nor a docker archive (no manifest.json)")
            return
        }
        var layout: ReadIndex?
        if hasLayout {
            struct LayoutFile: Decodable { var imageLayoutVersion: String }
            if (try? archive.json(LayoutFile.self, "oci-layout")) == nil { report.problems.append("oci-layout is not valid JSON with imageLayoutVersion") }
            layout = self.checkIndex(archive, into: &report)
        }
        // Every blob's content must hash to its name; a docker archive's configs and uncompressed layers outside
        // blobs/ to the digests their names and the configs' diff_ids give.
        var expected = archive.files.filter { $0.hasPrefix("blobs/sha256/") }.map {
            ContentCheck(name: $0, hex: String($0.dropFirst("blobs/sha256/".count)), what: $0)
        }
        if hasDocker, let (entries, checks) = self.checkDockerManifest(archive, into: &report) {
            expected += checks
            if let layout { Self.checkNames(layout, entries, into: &report) }
        }
        let checks = expected.sorted { $0.name < $1.name }
        report.blobs = checks.count
        report.bytes = checks.reduce(0) { $0 + (archive.size($1.name) ?? 0) }
        var mismatches: [String] = []
        try await forEachConcurrently(checks, jobs: jobs) { try Self.hashProblem(archive, $0) } collect: { problem in
            if let problem { mismatches.append(problem) }
        }
        // Sorted: they come in as the hashes finish.
        report.problems += mismatches.sorted()
    }

    /// A file whose sha256 must be `hex`; `what` says where that digest comes from.
    struct ContentCheck: Sendable {
        var name: String
        var hex: String
        var what: String
    }

    static func hashProblem(_ archive: any ImageArchive, _ check: ContentCheck) throws -> String? {
        let actual: String
        do { actual = try archive.sha256(check.name) } catch { return "\(check.name): \(error)" }
        return actual == check.hex ? nil : "\(check.what): content has digest sha256:\(actual)"
    }

    /// index.json and the manifests read while checking it, for the checks against manifest.json.
    struct ReadIndex {
        var index: ImageIndex
        var manifests: [Digest: ManifestContent] = [:]
    }

    private func checkIndex(_ archive: any ImageArchive, into report: inout Report) -> ReadIndex? {
        var read: ReadIndex
        do {
            read = ReadIndex(index: try archive.json(ImageIndex.self, "index.json"))
        } catch {
            report.problems.append("index.json: \(error)")
            return nil
        }
        let index = read.index
        // A delta leaves out blobs its base bundle carries: missing layers and configs are expected there.
        let isDelta = index.annotations?[DeltaBase.annotation] != nil
        if isDelta { report.isDelta = true }
        var queue = index.manifests.map { ($0, $0.annotations?[AnnotationKey.containerdImageName] ?? $0.annotations?[AnnotationKey.refName] ?? $0.digest.description) }
        for (d, name) in queue {
            report.images.append(name)
            if let ref = d.annotations?[AnnotationKey.refName], ref.isEmpty { report.problems.append("index.json: an empty \(AnnotationKey.refName)") }
        }
        var seen = Set<Digest>()
        while let (d, image) = queue.popLast() {
            guard seen.insert(d.digest).inserted else { continue }
            let name = "blobs/\(d.digest.algorithm)/\(d.digest.hex)"
            guard let size = archive.size(name) else {
                if isDelta && !d.mediaType.isManifest {
                    report.leftToBase += 1
                } else if d.urls == nil {
                    report.problems.append("\(image): \(d.mediaType) \(d.digest) is missing")
                }
                continue
            }
            if size != d.size { report.problems.append("\(image): \(d.digest) is \(size) bytes, its descriptor says \(d.size)") }
            guard d.mediaType.isManifest else { continue }
            do {
                let content = try RawManifest(bytes: try archive.read(name, limit: 4 << 20), mediaType: d.mediaType).parse()
                read.manifests[d.digest] = content
                switch content {
                case .index(let i): queue += i.manifests.map { ($0, image) }
                case .image(let m): queue += m.blobs.map { ($0, image) }
                }
            } catch {
                report.problems.append("\(image): manifest \(d.digest): \(error)")
            }
        }
        return read
    }

    /// moby `image/tarexport/load.go`: each entry's Config and Layers exist inside the archive, the config's
    /// `rootfs.diff_ids` has one entry per layer, and RepoTags are valid references. Returns the content checks no
    /// blob name covers: a config named `<sha256 hex>.json`, an uncompressed layer `….tar` against its diff_id
    /// (skopeo's `docker-archive:`, old `docker save`).
    private func checkDockerManifest(_ archive: any ImageArchive, into report: inout Report) -> (entries: [DockerArchiveEntry], checks: [ContentCheck])? {
        let entries: [DockerArchiveEntry]
        do {
            entries = try archive.json([DockerArchiveEntry].self, "manifest.json")
        } catch {
            report.problems.append("manifest.json: \(error)")
            return nil
        }
        var checks: [String: ContentCheck] = [:]
        struct Config: Decodable {
            struct RootFS: Decodable { var diff_ids: [String]? }
            var rootfs: RootFS?
        }
        for (i, entry) in entries.enumerated() {
            let what = "manifest.json[\(i)]" + (entry.repoTags?.first.map { " (\($0))" } ?? "")
            guard let configPath = ArchivePath.normalized(entry.config), archive.contains(configPath) else {
                report.problems.append("\(what): Config \(entry.config) is not in the archive")
                continue
            }
            for layer in entry.layers where ArchivePath.normalized(layer).map(archive.contains) != true {
                report.problems.append("\(what): layer \(layer) is not in the archive")
            }
            if !configPath.hasPrefix("blobs/"), configPath.hasSuffix(".json") {
                let stem = configPath.dropLast(".json".count).split(separator: "/").last ?? ""
                if let digest = try? Digest("sha256:\(stem)") {
                    checks[configPath] = ContentCheck(name: configPath, hex: digest.hex, what: "\(what): Config \(configPath)")
                }
            }
            if let config = try? archive.json(Config.self, configPath) {
                let diffIDs = config.rootfs?.diff_ids ?? []
                if diffIDs.count != entry.layers.count {
                    report.problems.append("\(what): the config lists \(diffIDs.count) diff_ids for \(entry.layers.count) layers; docker load would refuse it")
                } else {
                    for (layer, diffID) in zip(entry.layers, diffIDs) {
                        guard let path = ArchivePath.normalized(layer), !path.hasPrefix("blobs/"), path.hasSuffix(".tar"),
                              diffID.hasPrefix("sha256:") else { continue }
                        checks[path] = ContentCheck(name: path, hex: String(diffID.dropFirst("sha256:".count)), what: "\(what): layer \(path) (its config's diff_id \(diffID))")
                    }
                }
            } else {
                report.problems.append("\(what): Config \(entry.config) is not an image config")
            }
            for tag in entry.repoTags ?? [] where (try? Reference(parsing: tag)) == nil {
                report.problems.append("\(what): RepoTag \"\(tag)\" is not a valid reference")
            }
            if !archive.contains("oci-layout") { report.images.append(entry.repoTags?.first ?? entry.config) }
        }
        return (entries, Array(checks.values))
    }

    /// No digest covers the names an archive gives its images, and it gives each one up to three times: the full name
    /// and `ref.name` in index.json (`ref.name` is the full name in Ferry's bundles, the tag alone in containerd's and
    /// Docker's), and RepoTags in manifest.json. They must agree, and each manifest.json entry must be an image
    /// index.json gives that name (its Config and Layers those of one of its manifests): else `docker load` installs
    /// another image than `ferry load` and skopeo's `oci-archive:` under the same tag.
    private static func checkNames(_ read: ReadIndex, _ entries: [DockerArchiveEntry], into report: inout Report) {
        /// The images (Config and Layers as manifest.json names them) index.json reaches under each name.
        var images: [Reference: Set<DockerView>] = [:]
        for d in read.index.manifests {
            let full = d.annotations?[AnnotationKey.containerdImageName], ref = d.annotations?[AnnotationKey.refName]
            if let full, let ref, !ref.isEmpty, ref != full, !full.hasSuffix(":" + ref), !full.hasSuffix("@" + ref) {
                report.problems.append("index.json: \(d.digest) is named \(full) (\(AnnotationKey.containerdImageName)) but \(ref) (\(AnnotationKey.refName)); the archive is damaged")
            }
            if let name = full ?? ref, let parsed = try? Reference(parsing: name) {
                images[parsed.with(digest: nil), default: []].formUnion(Self.dockerViews(of: d, in: read.manifests))
            }
        }
        guard !images.isEmpty else { return }
        let all = images.values.reduce(into: Set<DockerView>()) { $0.formUnion($1) }
        for (i, entry) in entries.enumerated() {
            let tags = (entry.repoTags ?? []).compactMap { try? Reference(parsing: $0) }
            for tag in tags where images[tag.with(digest: nil)] == nil {
                report.problems.append("manifest.json[\(i)]: RepoTag \(tag) names no image of index.json: docker load and ferry load would name it differently; the archive is damaged")
            }
            let named = tags.compactMap { images[$0.with(digest: nil)] }
            let candidates = named.isEmpty ? all : named.reduce(into: Set<DockerView>()) { $0.formUnion($1) }
            let view = DockerView(config: ArchivePath.normalized(entry.config) ?? entry.config, layers: entry.layers.map { ArchivePath.normalized($0) ?? $0 })
            if !candidates.contains(view) {
                let what = "manifest.json[\(i)]" + (entry.repoTags?.first.map { " (\($0))" } ?? "")
                report.problems.append("\(what): its Config and Layers are not those of \(named.isEmpty ? "any image of index.json" : "the image index.json names so"): docker load would install another image than ferry load; the archive is damaged")
            }
        }
    }

    /// An image as manifest.json lists it: the config's and the layers' paths in the archive.
    struct DockerView: Hashable {
        var config: String
        var layers: [String]
    }

    /// Every image manifest `d` leads to (itself, or an index's children), as manifest.json would list it; from the
    /// manifests checkIndex read (one it could not read leads nowhere).
    private static func dockerViews(of d: Descriptor, in manifests: [Digest: ManifestContent], depth: Int = 0) -> Set<DockerView> {
        func path(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.hex)" }
        guard depth < 4, let content = manifests[d.digest] else { return [] }
        switch content {
        case .image(let m):
            return [DockerView(config: path(m.config.digest), layers: m.layers.map { path($0.digest) })]
        case .index(let i):
            return i.manifests.reduce(into: Set<DockerView>()) { $0.formUnion(Self.dockerViews(of: $1, in: manifests, depth: depth + 1)) }
        }
    }

    /// `oci-archive:FILE[:REF]` and `docker-archive:FILE[:REF]` name a file to check whole (split as `copy` splits
    /// them); anything else as given.
    static func archivePath(_ target: String) -> String {
        guard target.hasPrefix("oci-archive:") || target.hasPrefix("docker-archive:"),
              let location = try? ImageLocation(parsing: target, bareIsRegistry: false) else { return target }
        switch location {
        case .ociArchive(let path, _), .dockerArchive(let path, _): return path
        default: return target
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}

import Foundation
import OCI
import Stores

/// The images inside an image archive (a Ferry bundle, `skopeo copy … oci-archive:/docker-archive:`, `docker save`):
/// `index.json` names (`io.containerd.image.name` first, as Docker and containerd put only the tag in `ref.name`),
/// then `manifest.json` RepoTags. Read in place; nothing is extracted.
enum ArchiveImages {
    static func isArchive(_ url: URL) -> Bool {
        url.pathExtension == "tar" || url.lastPathComponent.hasSuffix(".tar.zst") || url.lastPathComponent.hasSuffix(".tzst")
            || Self.holdsImages(url)
    }

    /// A `.tar.gz`/`.tgz`/`.zst` holding images (a Ferry bundle, `docker save | gzip`, an OCI `tar | zstd`), not a
    /// Helm chart: decided by content, reading only up to the first member that tells (a chart's `Chart.yaml`
    /// comes first; a docker save's `<id>/layer.tar` or an OCI layout's `blobs/` soon).
    static func holdsImages(_ url: URL) -> Bool {
        let name = url.lastPathComponent
        guard name.hasSuffix(".gz") || name.hasSuffix(".tgz") || name.hasSuffix(".zst"), let file = try? CompressedTarFile(path: url.path) else { return false }
        if file.index != nil { return true }
        final class Peek: TarMemberVisitor {
            struct Decided: Error {}
            var images: Bool?
            func begin(_ entry: TarReader.Entry) throws -> Bool {
                let name = ArchivePath.normalized(entry.name) ?? entry.name
                if name.split(separator: "/").last == "Chart.yaml" {
                    self.images = false
                    throw Decided()
                }
                if ["manifest.json", "index.json", "oci-layout", "repositories"].contains(name) || name.hasPrefix("blobs/") || name.hasSuffix("/layer.tar") {
                    self.images = true
                    throw Decided()
                }
                return false
            }
            func data(_ bytes: UnsafeRawBufferPointer) throws {}
            func end() throws {}
        }
        let peek = Peek()
        var parser = TarStreamParser(path: url.path, hashing: false, captureLimit: 0, captureBudget: 0)
        parser.visitor = peek
        do { try file.scan { try parser.feed($0) } } catch {}
        return peek.images ?? false
    }

    static func references(in url: URL) throws(MirrorError) -> [String] {
        let archive: any ImageArchive
        let problems: [String]
        do {
            if CompressedTarFile.format(of: url.path) != nil {
                let compressed = try CompressedTarArchive(path: url.path, hashing: false)
                (archive, problems) = (compressed, compressed.problems)
            } else {
                let tar = try TarArchive(path: url.path)
                (archive, problems) = (tar, tar.problems)
            }
        } catch { throw MirrorError(.failed, "\(url.path): \(error)") }
        // Names from an archive that copy and load would refuse (duplicate members, links out) are not listed.
        try TarMembers.requireSafe(problems, path: url.path)
        var out: [String] = []
        if archive.contains("index.json"), let index = try? archive.json(ImageIndex.self, "index.json") {
            for d in index.manifests {
                let names = [d.annotations?[AnnotationKey.containerdImageName], d.annotations?[AnnotationKey.refName]].compactMap { $0 }
                // A bare tag in ref.name (skopeo's oci-archive:FILE:TAG) names no image.
                if let name = names.first(where: { $0.contains("/") && (try? Reference(parsing: $0)) != nil }) {
                    out.append(name)
                }
            }
        }
        if out.isEmpty, archive.contains("manifest.json"), let entries = try? archive.json([DockerArchiveEntry].self, "manifest.json") {
            out += entries.flatMap { $0.repoTags ?? [] }
        }
        return out
    }
}

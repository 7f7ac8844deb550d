import Foundation
import OCI
import Stores

/// The images inside an image archive (a Ferry bundle, `skopeo copy … oci-archive:/docker-archive:`, `docker save`):
/// `index.json` names (`io.containerd.image.name` first, as Docker and containerd put only the tag in `ref.name`),
/// then `manifest.json` RepoTags. Read in place; nothing is extracted.
enum ArchiveImages {
    static func isArchive(_ url: URL) -> Bool {
        url.pathExtension == "tar" || url.lastPathComponent.hasSuffix(".tar.zst") || url.lastPathComponent.hasSuffix(".tzst")
            || Self.isCompressedBundle(url)
    }

    /// A `.tar.gz` with Ferry's frame index is a bundle, not a Helm chart archive.
    static func isCompressedBundle(_ url: URL) -> Bool {
        let name = url.lastPathComponent
        guard name.hasSuffix(".gz") || name.hasSuffix(".tgz") || name.hasSuffix(".zst"), let file = try? CompressedTarFile(path: url.path) else { return false }
        return file.index != nil
    }

    static func references(in url: URL) throws(MirrorError) -> [String] {
        let archive: any ImageArchive
        do {
            archive = CompressedTarFile.format(of: url.path) != nil
                ? try CompressedTarArchive(path: url.path, hashing: false) : try TarArchive(path: url.path)
        } catch { throw MirrorError(.failed, "\(url.path): \(error)") }
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

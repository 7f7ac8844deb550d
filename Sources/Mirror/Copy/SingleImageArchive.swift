import Foundation
import OCI
import Stores

/// The planned tar `ferry copy … oci-archive:FILE[:TAG]` or `docker-archive:FILE[:REPO:TAG]` writes: a bundle
/// (DESIGN §3, an OCI layout and a `docker load` archive at once) of one image, named as the destination says.
/// skopeo reads it through both transports, and so does Ferry.
struct SingleImageArchive {
    var plan: BundlePlan
    /// Configs and layers, each once, in the order the plan holds them.
    var blobs: [Descriptor] = []

    /// - Parameters:
    ///   - refName: `org.opencontainers.image.ref.name` (the TAG of `oci-archive:FILE:TAG`, or a full name).
    ///   - fullName: `io.containerd.image.name`, when the image has a full name.
    ///   - repoTags: `manifest.json` RepoTags (`docker-archive:FILE:REPO:TAG`).
    ///   - requireDockerImage: for `docker-archive:`, refuse an image `docker load` could not load (an artifact,
    ///     or no runnable platform), instead of writing an archive whose `manifest.json` is empty.
    init(image: ImagePlan, refName: String?, fullName: Reference?, repoTags: [Reference], platform: PlatformChoice, requireDockerImage: Bool = false) throws {
        var top = image.top.descriptor
        var annotations: [String: String] = [:]
        if let refName { annotations[AnnotationKey.refName] = refName }
        if let fullName { annotations[AnnotationKey.containerdImageName] = fullName.description }
        top.annotations = annotations.isEmpty ? nil : annotations
        let index = ImageIndex(mediaType: .ociIndex, manifests: [top])

        var entries: [DockerArchiveEntry] = []
        var repositories: [String: [String: String]] = [:]
        let loadable = try BundleContents.dockerImage(image, platform: platform)
        if loadable == nil && requireDockerImage {
            throw MirrorError(.usage, "\(image.source) is not an image docker load can load (an artifact, or no runnable platform); write it as oci-archive:FILE instead")
        }
        if let (config, layers) = loadable {
            entries.append(BundleContents.dockerEntry(config: config, layers: layers, repoTags: repoTags.map(\.familiar)))
            for tag in repoTags {
                repositories[tag.with(tag: nil).with(digest: nil).familiar, default: [:]][tag.tag ?? "latest"] = config.hex
            }
        }

        let manifests = image.manifests + [image.top]
        var seen = Set(manifests.map(\.digest))
        self.blobs = image.blobs.filter { seen.insert($0.digest).inserted }
        self.plan = try BundleContents.tar(manifests: manifests, blobs: self.blobs, index: index, docker: (entries, repositories))
    }
}

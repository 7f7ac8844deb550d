import Foundation
import OCI
import Stores

/// What goes into a bundle for a set of resolved images: the OCI `index.json`, docker's `manifest.json` and
/// `repositories`, and the members of the planned tar (DESIGN §3).
struct BundleContents {
    var plan: BundlePlan
    var index: ImageIndex
    var dockerEntries: [DockerArchiveEntry] = []
    var blobs: [Descriptor] = []

    /// Blobs left out because the base bundle of a delta carries them.
    var omitted: [Descriptor] = []

    init(images: [ImagePlan], platform: PlatformChoice, base: DeltaBase? = nil) throws {
        var manifests: [Digest: ImagePlan.StoredManifest] = [:]
        var manifestOrder: [Digest] = []
        var blobs: [Digest: Descriptor] = [:]
        var blobOrder: [Digest] = []
        var entries: [Descriptor] = []
        var repositories: [String: [String: String]] = [:]
        for image in images {
            for m in image.manifests + [image.top] where manifests[m.digest] == nil {
                manifests[m.digest] = m
                manifestOrder.append(m.digest)
            }
            for b in image.blobs where blobs[b.digest] == nil {
                blobs[b.digest] = b
                blobOrder.append(b.digest)
            }
            var top = image.top.descriptor
            top.annotations = [
                AnnotationKey.refName: image.source.description,
                AnnotationKey.containerdImageName: image.source.description,
            ]
            entries.append(top)
            if let chosen = try Self.dockerImage(image, platform: platform) {
                let (config, layers) = chosen
                let tags = image.source.tag == nil ? [] : [image.source.with(digest: nil).familiar]
                self.dockerEntries.append(Self.dockerEntry(config: config, layers: layers, repoTags: tags))
                if let tag = image.source.tag {
                    let name = image.source.with(tag: nil).with(digest: nil).familiar
                    repositories[name, default: [:]][tag] = config.hex
                }
            }
        }
        self.index = ImageIndex(mediaType: .ociIndex, manifests: entries)
        let all = blobOrder.compactMap { blobs[$0] }
        // A delta leaves out layers and configs the base carries; manifests are always in (small, and the index needs them).
        self.blobs = all.filter { base?.blobs.contains($0.digest) != true }
        self.omitted = all.filter { base?.blobs.contains($0.digest) == true }
        if let base {
            self.index.annotations = [DeltaBase.annotation: base.fingerprint]
            // docker load cannot load an image with missing layers: a delta is an OCI layout only.
            self.dockerEntries = []
            repositories = [:]
        }

        self.plan = try Self.tar(
            manifests: manifestOrder.map { manifests[$0]! }, blobs: self.blobs, index: self.index,
            docker: base == nil ? (self.dockerEntries, repositories) : nil)
    }

    /// The planned tar of a bundle (DESIGN §3): `oci-layout`, the manifests then the blobs under `blobs/sha256/`
    /// (each digest once), `index.json`, and, unless `docker` is nil, `manifest.json` and `repositories`.
    static func tar(
        manifests: [ImagePlan.StoredManifest], blobs: [Descriptor], index: ImageIndex,
        docker: (entries: [DockerArchiveEntry], repositories: [String: [String: String]])?
    ) throws -> BundlePlan {
        var plan = BundlePlan()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        plan.addFile("oci-layout", content: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        plan.addDirectory("blobs/")
        plan.addDirectory("blobs/sha256/")
        var seen = Set<Digest>()
        for m in manifests where seen.insert(m.digest).inserted {
            plan.addFile("blobs/sha256/\(m.digest.hex)", content: m.raw.bytes, digest: m.digest)
        }
        for blob in blobs where seen.insert(blob.digest).inserted {
            plan.addBlob(blob)
        }
        plan.addFile("index.json", content: Array(try encoder.encode(index)))
        if let docker {
            plan.addFile("manifest.json", content: Array(try encoder.encode(docker.entries)))
            plan.addFile("repositories", content: Array(try encoder.encode(docker.repositories)))
        }
        return plan
    }

    /// A `manifest.json` entry naming the bundle's blobs by their paths.
    static func dockerEntry(config: Digest, layers: [Digest], repoTags: [String]) -> DockerArchiveEntry {
        DockerArchiveEntry(config: "blobs/sha256/\(config.hex)", repoTags: repoTags, layers: layers.map { "blobs/sha256/\($0.hex)" })
    }

    /// The image `docker load` gets for `image`: the `--platform` child, else linux/amd64, else the first runnable
    /// one; never an attestation. `nil` for artifacts whose config is not an image config.
    static func dockerImage(_ image: ImagePlan, platform: PlatformChoice) throws -> (Digest, [Digest])? {
        var chosen: ImagePlan.StoredManifest? = image.top
        if case .index(let index) = try image.top.raw.parse() {
            let wanted: Platform = if case .one(let p) = platform { p } else { .linuxAMD64 }
            let child = index.select(wanted) ?? index.manifests.first { !$0.isAttestation && !$0.mediaType.isIndex }
            chosen = child.flatMap { c in image.manifests.first { $0.digest == c.digest } }
        }
        guard let chosen, case .image(let manifest) = try chosen.raw.parse() else { return nil }
        guard manifest.config.mediaType == .ociConfig || manifest.config.mediaType == .dockerConfig else { return nil }
        return (manifest.config.digest, manifest.layers.map(\.digest))
    }
}

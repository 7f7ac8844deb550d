import ArgumentParser
import Foundation
import Mirror
import OCI
import Registry
import Transfer

struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Push every image of a bundle into a registry, under a namespace.",
        discussion: """
            Reads a bundle from ferry save (BUNDLE.tar, .tar.zst, .tar.gz), an OCI layout (oci:DIR), a docker save \
            archive (old or new layout, also piped through gzip or zstd) or a skopeo docker-archive/oci-archive file \
            in place, without extracting it, and pushes every \
            image its index.json (or a docker archive's manifest.json RepoTags) names, in parallel, with the manifest \
            digests of the source (a docker archive's uncompressed layers are gzip-compressed on the way, as docker \
            push does). A compressed bundle is read at any blob through its frame index; a foreign compressed \
            archive is read front to back twice (once to plan, once to push), never decompressed to disk. \
            Blobs the registry already has are skipped, blobs another image of the same load put in another \
            repository are mounted, big blobs go in --upload-chunk-size pieces (so proxies with body limits are no \
            obstacle; a 413 lowers the size on its own). After an interruption the same command goes on from the \
            registry's upload offsets (state in $XDG_STATE_HOME/ferry/, default ~/.local/state/ferry/).

            Names at the target (--layout), as ferry rewrite and ferry sync give them:
              path    quay.io/keycloak/keycloak -> REG/NS/keycloak/keycloak (default)
              flat    quay.io/keycloak/keycloak -> REG/NS/keycloak
              scoped  quay.io/keycloak/keycloak -> REG/NS/quay.io/keycloak/keycloak
            Two different sources that would get one name are refused before anything is pushed. On Harbor or \
            GitLab the project or group NS must exist first.

            Examples:
              ferry load akko.tar --to registry.corp.example/akko --map loaded.json
              ferry load akko-images.tar.zst --to registry.corp.example/akko
              ferry load images-from-docker-save.tar.gz --to registry.corp.example/akko
              ferry load akko.tar --to 10.0.0.5:5000/akko --layout flat --creds ci:pw
              ferry load akko.tar --to reg.corp.example/akko --ca-cert corp-ca.pem
              ferry load oci:./mirror --to reg.corp.example --upload-chunk-size 16MiB
              ferry rewrite helm/akko --map loaded.json -o airgapped.yaml
            """
    )

    @Argument(help: ArgumentHelp("A bundle from ferry save (.tar, .tar.zst, .tar.gz), an OCI layout (oci:DIR), or a docker save / skopeo archive (plain, gzip or zstd).", valueName: "bundle"))
    var bundle: String

    @OptionGroup var target: TargetOptions

    @Option(help: "Blobs in flight at once, across all images.")
    var jobs: Int = 8

    @Option(name: .customLong("stall-timeout"), help: ArgumentHelp("Seconds without a byte going out before an upload request is dropped and resumed.", valueName: "seconds"))
    var stallTimeout: Double = 30

    @Option(help: ArgumentHelp("OS/ARCH[/VARIANT] to push, or all (the whole index).", valueName: "platform"))
    var platform: String = "all"

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        try TransferOptions.check(jobs: self.jobs, stallTimeout: self.stallTimeout)
    }

    func run() async throws {
        let naming: TargetNaming
        let platform: PlatformChoice
        let options: PushOptions
        let renderer = ProgressRenderer(mode: self.global.progress, quiet: self.global.quiet)
        do {
            naming = try self.target.naming()
            platform = try PlatformChoice(parsing: self.platform)
            let registry = try self.global.registryOptions()
            let upload = self.target.uploadOptions(registry: registry, stallTimeout: self.stallTimeout)
            options = PushOptions(jobs: self.jobs, registry: registry, upload: upload, progress: renderer.handler)
        } catch {
            throw Run.exit(for: error)
        }
        let bundle = self.bundle, map = self.target.map
        let engine = self.global.engine()
        try await Run.job(progress: renderer) {
            let result = try await Loader(engine: engine).load(bundle, naming: naming, platform: platform, options: options)
            let elapsed = Date().timeIntervalSince(renderer.start)
            let rate = elapsed > 0 ? Int64(Double(result.bytesUploaded) / elapsed) : 0
            let resumed = result.blobsResumed > 0 ? " (\(result.blobsResumed) resumed)" : ""
            renderer.summary(
                "loaded \(result.images.count) image\(result.images.count == 1 ? "" : "s") into \(naming.destination): \(result.blobsUploaded) blobs uploaded\(resumed), \(result.blobsSkipped) already there, \(result.blobsMounted) mounted, \(ByteCount(result.bytesUploaded)) in \(String(format: "%.1f", elapsed)) s (\(ByteCount(rate))/s), \(renderer.retries) retries",
                fields: [
                    "command": "load", "destination": naming.destination.description, "images": result.images.count,
                    "blobs_uploaded": result.blobsUploaded, "blobs_resumed": result.blobsResumed, "blobs_skipped": result.blobsSkipped,
                    "blobs_mounted": result.blobsMounted, "bytes": result.bytesUploaded,
                ])
            for image in result.images { print("\(image.target) \(image.digest)") }
            // After the results, so a map that cannot be written still leaves the list of what was pushed.
            if let map {
                try ImageMap.write(pushed: result.images, to: map)
            }
        }
    }
}

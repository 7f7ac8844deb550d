import ArgumentParser
import Foundation
import Mirror
import Transfer
import Registry

struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy one image from any transport to any transport.",
        discussion: """
            Blobs download in parallel, are sha256-checked as they stream, and land only when verified. \
            Run the same command again after an interruption to continue.

            Archives are read in place: Ferry bundles (.tar, .tar.zst, .tar.gz), oci-archive files, docker save \
            archives (old and new layouts, also piped through gzip or zstd) and skopeo's docker-archive files. A \
            docker archive's uncompressed layers are gzip-compressed on the way, so a pushed image gets the manifest \
            docker push would give it. Archives written here are bundles of one image (an OCI layout and a docker \
            load archive at once).

            --dest-compress rewrites layers into gzip or zstd from docker:// to oci: or docker://, and from oci: to \
            docker://: the image gets new layer and manifest digests, its config (and so its DiffIDs) stays; with \
            zstd a Docker manifest becomes an OCI one, as Docker's format has no zstd layer type.

            Examples:
              ferry copy docker://registry.example.com/app:1.2 oci:./app-layout
              ferry copy --platform linux/arm64 \\
                  docker://quay.io/keycloak/keycloak:26.2.4 oci:./kc:26.2.4
              ferry copy --tls-verify=false docker://127.0.0.1:5000/nginx:latest \\
                  oci:/tmp/nginx
              ferry copy docker-archive:saved.tar:nginx:1.27 \\
                  docker://registry.corp.example/nginx:1.27
              ferry copy docker-archive:saved.tar.gz:@1 \\
                  docker://registry.corp.example/tools/untagged:1
              ferry copy oci-archive:app.tar:1.2 oci:./app-layout
              ferry copy docker://registry.example.com/app:1.2 oci-archive:app.tar:1.2
              ferry copy docker://registry.example.com/app:1.2 \\
                  docker-archive:app.tar:app:1.2
              ferry copy --dest-compress zstd docker://registry.example.com/app:1.2 \\
                  docker://mirror.internal/app:1.2-zstd
            """
    )

    @Argument(help: "Source image: docker://HOST/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG|:@N].")
    var source: String

    @Argument(help: "Destination: docker://HOST/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG].")
    var destination: String

    @Option(help: ArgumentHelp("Rewrite layers into gzip or zstd on the way (docker:// to oci: or docker://, oci: to docker://); new digests, same DiffIDs.", valueName: "format"))
    var destCompress: String?

    @Option(help: ArgumentHelp("Level for --dest-compress (gzip 1-9, default 6; zstd 1-19, default 3).", valueName: "n"))
    var destCompressLevel: Int?

    @OptionGroup var transfer: TransferOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let src: ImageLocation, dst: ImageLocation
        let registry: RegistryOptions
        let platform: PlatformChoice
        let recompress: LayerCompression?
        do {
            if self.destCompressLevel != nil && self.destCompress == nil {
                throw MirrorError(.usage, "--dest-compress-level needs --dest-compress gzip|zstd")
            }
            recompress = try self.destCompress.map { try LayerCompression(parsing: $0, level: self.destCompressLevel) }
            src = try ImageLocation(parsing: self.source)
            dst = try ImageLocation(parsing: self.destination)
            registry = try self.global.registryOptions()
            platform = try self.transfer.platformChoice()
        } catch {
            throw Run.exit(for: error)
        }
        let renderer = ProgressRenderer(mode: self.global.progress, quiet: self.global.quiet)
        var settings = CopyOptions(
            platform: platform, jobs: self.transfer.jobs, registry: registry,
            download: self.transfer.downloadOptions(retries: self.global.retries), progress: renderer.handler)
        settings.recompress = recompress
        let options = settings
        renderer.expect(images: 1)
        let engine = self.global.engine()
        try await Run.job(progress: renderer) {
            let result = try await Copier(engine: engine).copy(from: src, to: dst, options: options)
            let elapsed = Date().timeIntervalSince(renderer.start)
            let rate = elapsed > 0 ? Int64(Double(result.bytesFetched) / elapsed) : 0
            var line = ""
            var fields: [String: Any] = [
                "command": "copy", "source": result.source, "destination": result.destination, "digest": result.digest,
                "blobs_fetched": result.blobsFetched, "blobs_skipped": result.blobsSkipped, "bytes": result.bytesFetched,
            ]
            if let recoded = result.recoded {
                line = "recompressed \(recoded.layers) layers with \(recoded.compression): \(ByteCount(recoded.bytesBefore)) → \(ByteCount(recoded.bytesAfter)); new digest \(result.digest)\n"
                fields["recompressed_layers"] = recoded.layers
                fields["recompressed_bytes_before"] = recoded.bytesBefore
                fields["recompressed_bytes_after"] = recoded.bytesAfter
            }
            renderer.summary(
                line + "copied \(result.source) to \(result.destination): \(result.blobsFetched) blobs \(result.destination.hasPrefix("docker://") ? "pushed" : "fetched"), \(result.blobsSkipped) already present, \(ByteCount(result.bytesFetched)) in \(String(format: "%.1f", elapsed)) s (\(ByteCount(rate))/s), \(renderer.retries) retries",
                fields: fields)
            print(result.digest)
        }
    }
}

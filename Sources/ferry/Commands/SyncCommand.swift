import ArgumentParser
import Foundation
import Mirror
import OCI
import Registry
import Transfer

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Copy images from their registries into another registry, under a namespace.",
        discussion: """
            Where the two networks meet: no bundle in between. Images are named at the target as ferry load names \
            them (--layout), keep their digests, and are skipped whole when the target already has the same \
            manifest digest under that name. Blobs are fetched in parallel Range segments and sent as ferry load \
            sends them; only the blobs in flight are held on disk (in $XDG_STATE_HOME/ferry/spool/). Run the same \
            command again after an interruption to continue.

            Examples:
              ferry sync quay.io/keycloak/keycloak:26.2.4 --to registry.corp.example/akko
              ferry images helm/akko/values.yaml > images.txt
              ferry sync -f images.txt --to registry.corp.example/akko --map synced.json
              ferry sync -f images.txt --to 10.0.0.5:5000/akko --layout flat --keep-going
            """
    )

    @Argument(help: "Images to copy (docker:// is optional).")
    var images: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("A file of images, one a line; # starts a comment.", valueName: "list"))
    var file: String?

    @OptionGroup var target: TargetOptions

    @Flag(name: .customLong("keep-going"), help: "Carry on after an image fails; report every failure at the end.")
    var keepGoing = false

    @OptionGroup var transfer: TransferOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let references: [Reference]
        let naming: TargetNaming
        let options: Syncer.Options
        let renderer = ProgressRenderer(mode: self.global.progress, quiet: self.global.quiet)
        do {
            references = try ImageList.read(arguments: self.images, file: self.file)
            guard !references.isEmpty else { throw MirrorError(.usage, "no images to sync: name them as arguments or with -f LIST") }
            naming = try self.target.naming()
            let registry = try self.global.registryOptions()
            let upload = self.target.uploadOptions(registry: registry, stallTimeout: self.transfer.stallTimeout)
            options = Syncer.Options(
                platform: try self.transfer.platformChoice(),
                push: PushOptions(jobs: self.transfer.jobs, registry: registry, upload: upload, progress: renderer.handler),
                download: self.transfer.downloadOptions(retries: self.global.retries), keepGoing: self.keepGoing)
        } catch {
            throw Run.exit(for: error)
        }
        let map = self.target.map
        renderer.expect(images: references.count)
        let engine = self.global.engine()
        try await Run.job(progress: renderer) {
            let result = try await Syncer(engine: engine).sync(references, naming: naming, options: options)
            let elapsed = Date().timeIntervalSince(renderer.start)
            let rate = elapsed > 0 ? Int64(Double(result.push.bytesUploaded) / elapsed) : 0
            let p = result.push
            renderer.summary(
                "synced \(result.images.count) image\(result.images.count == 1 ? "" : "s") to \(naming.destination) (\(result.upToDate) already up to date): \(p.blobsUploaded) blobs copied, \(p.blobsSkipped) already there, \(p.blobsMounted) mounted, \(ByteCount(p.bytesUploaded)) in \(String(format: "%.1f", elapsed)) s (\(ByteCount(rate))/s), \(renderer.retries) retries",
                fields: [
                    "command": "sync", "destination": naming.destination.description, "images": result.images.count,
                    "up_to_date": result.upToDate, "failed": result.failures.count, "blobs_copied": p.blobsUploaded,
                    "blobs_skipped": p.blobsSkipped, "blobs_mounted": p.blobsMounted, "bytes": p.bytesUploaded,
                ])
            for image in result.images { print("\(image.target) \(image.digest)") }
            for failure in result.failures { Run.fail("\(failure.source): \(failure.message)") }
            // After the results and the failures, so a map that cannot be written still leaves both said.
            if let map {
                try ImageMap.write(pushed: result.images, to: map)
            }
            guard result.failures.isEmpty else {
                throw MirrorError(.failed, "\(result.failures.count) of \(references.count) images failed; fix the causes above and run the same command again")
            }
        }
    }
}

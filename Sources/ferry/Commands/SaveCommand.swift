import ArgumentParser
import Foundation
import Mirror
import OCI
import Registry
import Transfer

struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Bundle images into one verified file: an OCI image layout and a docker load archive.",
        discussion: """
            The tar is planned before data arrives and filled in place: disk use is the bundle's size, and the same \
            command run again after an interruption continues where it stopped. BUNDLE.ferry.json lists what the \
            bundle holds.

            -o BUNDLE.tar.zst or BUNDLE.tar.gz writes the same tar compressed as independent frames with a trailing \
            frame index: ferry verify, load and images read it in place, zstd -d and gzip -d give back the tar, and an \
            interrupted save continues after its last whole frame. Layers are already compressed, so this mostly \
            shrinks metadata and uncompressed layers (docs/bundle-format.md).

            Examples:
              ferry save -o akko.tar quay.io/keycloak/keycloak:26.2.4 apache/airflow:3.0.1
              ferry images helm/akko/values.yaml > images.txt && ferry save -f \\
                  images.txt -o akko.tar
              ferry save --platform linux/amd64 -f images.txt -o akko-amd64.tar
              ferry save -f images.txt --since akko-2026.04.tar.ferry.json -o \\
                  akko-update.tar
              ferry save -f images.txt -o akko.tar.zst
            """
    )

    @Argument(help: "Images to save (docker:// is optional).")
    var images: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("A file of images, one a line; # starts a comment.", valueName: "list"))
    var file: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The bundle to write (BUNDLE.tar, BUNDLE.tar.zst or BUNDLE.tar.gz).", valueName: "bundle"))
    var output: String

    @Option(help: ArgumentHelp("zstd level (default 3) or gzip level (default 1) of a compressed bundle.", valueName: "level"))
    var compressLevel: Int?

    @Option(help: ArgumentHelp("Make a delta: leave out every blob this older bundle (or its .ferry.json sidecar) carries.", valueName: "old"))
    var since: String?

    @OptionGroup var transfer: TransferOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let references: [Reference]
        let options: CopyOptions
        let base: DeltaBase?
        let renderer = ProgressRenderer(mode: self.global.progress, quiet: self.global.quiet)
        do {
            references = try ImageList.read(arguments: self.images, file: self.file)
            base = try self.since.map { try DeltaBase(path: $0) }
            options = CopyOptions(
                platform: try self.transfer.platformChoice(), jobs: self.transfer.jobs,
                registry: try self.global.registryOptions(),
                download: self.transfer.downloadOptions(retries: self.global.retries), progress: renderer.handler)
        } catch {
            throw Run.exit(for: error)
        }
        let output = self.output
        let level = self.compressLevel
        renderer.expect(images: references.count)
        let engine = self.global.engine()
        try await Run.job(progress: renderer) {
            let result = try await Saver(engine: engine).save(references, to: output, options: options, since: base, compressLevel: level)
            let elapsed = Date().timeIntervalSince(renderer.start)
            let rate = elapsed > 0 ? Int64(Double(result.bytesFetched) / elapsed) : 0
            var line = "saved \(result.images.count) images to \(result.output) (\(ByteCount(result.bundleSize))): \(result.blobsFetched) blobs fetched, \(result.blobsSkipped) already done, \(ByteCount(result.bytesFetched)) in \(String(format: "%.1f", elapsed)) s (\(ByteCount(rate))/s), \(renderer.retries) retries"
            if let base {
                line = "delta of \(base.source): \(result.omittedBlobs) blobs (\(ByteCount(result.omittedBytes))) left out\n" + line
            }
            renderer.summary(line, fields: [
                "command": "save", "output": result.output, "images": result.images.count, "bundle_bytes": result.bundleSize,
                "blobs_fetched": result.blobsFetched, "blobs_skipped": result.blobsSkipped, "bytes": result.bytesFetched,
                "omitted_blobs": result.omittedBlobs,
            ])
            for image in result.images { print("\(image.reference) \(image.digest)") }
        }
    }
}

/// Image references from arguments and `-f LIST` files (one a line, `#` comments, blank lines ignored).
enum ImageList {
    static func read(arguments: [String], file: String?) throws -> [Reference] {
        var texts = arguments
        if let file {
            let data: [UInt8]
            do {
                data = try readSmallFile(file)
            } catch {
                throw MirrorError(.usage, "cannot read image list \(file): \(error.message) (ferry images PATH > images.txt makes a list)")
            }
            for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                    .trimmingCharacters(in: .whitespaces) ?? ""
                if !text.isEmpty { texts.append(text) }
            }
        }
        var seen = Set<Reference>()
        var out: [Reference] = []
        for text in texts {
            let bare = text.hasPrefix("docker://") ? String(text.dropFirst("docker://".count)) : text
            let reference: Reference
            do { reference = try Reference(parsing: bare) } catch { throw MirrorError(.usage, "\(error)") }
            if seen.insert(reference).inserted { out.append(reference) }
        }
        return out
    }
}

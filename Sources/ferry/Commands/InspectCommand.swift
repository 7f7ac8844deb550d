import ArgumentParser
import Foundation
import Mirror
import Registry
import Transfer

struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's manifest digest, media type, platforms and layers.",
        discussion: """
            Reads a registry, or an image in a layout or an archive (a bundle on the far side of the air gap, with \
            no registry at hand): manifests are checked against their digests as they are read.

            Examples:
              ferry inspect nginx:1.27
              ferry inspect --raw docker://127.0.0.1:5000/app:1.0
              ferry inspect --json --platform linux/arm64 quay.io/keycloak/keycloak:26.2.4
              ferry inspect oci-archive:akko.tar:quay.io/keycloak/keycloak:26.2.4
              ferry inspect oci:./mirror:1.0
            """
    )

    @Argument(help: "An image: docker://REF (docker:// is optional), oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:REPO:TAG].")
    var reference: String

    @Option(help: ArgumentHelp("For an index, which child's layers to list.", valueName: "platform"))
    var platform: String = "all"

    @Flag(help: "Print the manifest exactly as the registry serves it (or the archive holds it).")
    var raw = false

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let location: ImageLocation
        let options: RegistryOptions
        let choice: PlatformChoice
        do {
            location = try ImageLocation(parsing: self.reference, bareIsRegistry: true)
            options = try self.global.registryOptions()
            choice = try PlatformChoice(parsing: self.platform)
        } catch {
            throw Run.exit(for: error)
        }
        let raw = self.raw, json = self.json
        let engine = self.global.engine()
        try await Run.job {
            let i = try await Inspector(engine: engine).inspect(location, platform: choice, registry: options)
            if raw {
                print(i.raw)
            } else if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(i), as: UTF8.self))
            } else {
                print("Name:       \(i.reference)")
                print("Digest:     \(i.digest)")
                print("MediaType:  \(i.mediaType)")
                if !i.platforms.isEmpty { print("Platforms:  \(i.platforms.joined(separator: ", "))") }
                if let c = i.config { print("Config:     \(c)") }
                print(i.layersPlatform.map { "Layers (\($0)):" } ?? "Layers:")
                for l in i.layers { print("  \(l.digest)  \(ByteCount(l.size))") }
            }
        }
    }
}

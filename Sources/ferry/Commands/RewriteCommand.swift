import ArgumentParser
import Foundation
import Mirror
import Stores

struct RewriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite",
        abstract: "Point a chart's values, a Juju bundle or manifests at the private registry.",
        discussion: """
            For a values file or a chart (directory or .tgz), writes a values overlay that sets every image \
            found to its private-registry name, with the keys the source used: registry/repository/tag maps \
            keep their shape, image: strings stay strings, lists are written whole (Helm replaces lists). \
            Pass it after the chart's values: helm upgrade --install ... -f values.yaml -f OVERLAY.

            For a Juju bundle or Kubernetes manifests, writes the file again with every image changed, JSON \
            strings of images too; comments, quoting and key order are kept. A plain list becomes the list of \
            targets.

            Names at the target are the ones ferry load and ferry sync give (--layout):
              path    quay.io/keycloak/keycloak -> REG/NS/keycloak/keycloak (default)
              flat    quay.io/keycloak/keycloak -> REG/NS/keycloak
              scoped  quay.io/keycloak/keycloak -> REG/NS/quay.io/keycloak/keycloak

            Two different sources that would get one name are refused. With --map (written by \
            ferry load --map) the targets are taken from the map and pinned to the digests pushed.

            Examples:
              ferry rewrite helm/akko --to registry.corp.example/akko -o airgapped.yaml
              ferry rewrite values.yaml --to registry.corp.example/akko --layout flat
              ferry rewrite bundle.yaml --map loaded.json -o bundle-airgapped.yaml
              ferry rewrite rendered.yaml --to 127.0.0.1:5000 > rendered-private.yaml
            """
    )

    @Argument(help: "A values file, chart (directory or .tgz), Juju bundle, manifest file or plain list.")
    var path: String

    @Option(help: ArgumentHelp("The registry and namespace the images were loaded into.", valueName: "registry[/namespace]"))
    var to: String?

    @Option(help: ArgumentHelp("How names are kept under the namespace: path, flat or scoped.", valueName: "layout"))
    var layout: String = NamingLayout.path.rawValue

    @Option(help: ArgumentHelp("Targets and digests from ferry load --map; digests are pinned.", valueName: "file"))
    var map: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the result here instead of stdout.", valueName: "file"))
    var output: String?

    @Flag(name: .shortAndLong, help: "No warnings and no summary on stderr.")
    var quiet = false

    func run() async throws {
        do {
            guard self.to != nil || self.map != nil else {
                throw MirrorError(.usage, "say where the images are: --to REGISTRY[/NAMESPACE], or --map FILE from ferry load --map")
            }
            guard let layout = NamingLayout(rawValue: self.layout) else {
                throw MirrorError(.usage, "--layout \(self.layout): use path, flat or scoped")
            }
            let naming = try self.to.map { TargetNaming(destination: try Destination(parsing: $0), layout: layout) }
            let entries = try self.map.map { try ImageMap.read(from: $0) }
            let result = try Rewriter().rewrite(self.path, options: RewriteOptions(naming: naming, map: entries))
            for warning in result.warnings where !self.quiet {
                FileHandle.standardError.write(Data("ferry: warning: \(warning)\n".utf8))
            }
            let text = result.text.hasSuffix("\n") || result.text.isEmpty ? result.text : result.text + "\n"
            if let output = self.output {
                if result.kind == .overlay && Self.sameFile(output, self.path) {
                    throw MirrorError(.usage, "-o \(output) is the values file itself: the overlay holds only the image settings and would replace the rest; write it beside, e.g. -o \(Self.overlayName(for: output)), and pass both: helm ... -f \(self.path) -f \(Self.overlayName(for: output))")
                }
                do {
                    try writeAtomically(Array(text.utf8), to: output)
                } catch {
                    throw MirrorError(.failed, error.message)
                }
                let count = result.targets.count
                if !self.quiet { FileHandle.standardError.write(Data("rewrote \(count) image\(count == 1 ? "" : "s") of \(self.path) into \(output)\n".utf8)) }
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        } catch {
            throw Run.exit(for: error)
        }
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// `dir/values.yaml` -> `dir/values-airgap.yaml`.
    static func overlayName(for path: String) -> String {
        let name = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        guard let dot = path[name...].lastIndex(of: "."), dot > name else { return path + "-airgap" }
        return path[..<dot] + "-airgap" + path[dot...]
    }
}

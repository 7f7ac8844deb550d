import ArgumentParser
import Foundation
import Mirror
import OCI

struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "List the images that Helm values, charts, manifests, Juju bundles and lists name.",
        discussion: """
            Prints every image reference found, normalised (nginx is docker.io/library/nginx:latest), sorted, \
            one a line: the list `ferry save -f` reads. A tag taken from a chart's appVersion because the values \
            leave it empty is marked with a `#` comment.

            Read: Helm values files; chart directories and .tgz archives with their charts/ subcharts (parent \
            values and global.imageRegistry / global.image.registry applied); Kubernetes manifests and \
            `kubectl get -o yaml` lists; Juju bundles (oci-image resources, image options, JSON strings of \
            images); plain lists (one reference a line, # comments); directories of those.

            Only keys that name images are read (image, *Image, *-image, repository/tag, name/tag, ...): \
            a model name such as qwen2.5:3b under `model:` is not an image. Values that may be images but are \
            not under such a key, or whose tag had to be guessed, are warned about on stderr; --strict fails on \
            them instead.

            Examples:
              ferry images helm/akko
              ferry images akko-0.1.0.tgz > images.txt
              ferry images --json bundle.yaml | jq -r '.images[].path'
              ferry images --strict rendered/ extra-images.txt
            """
    )

    @Argument(help: "Values files, charts (directories or .tgz), manifests, Juju bundles, plain lists, or directories of those.")
    var paths: [String]

    @Flag(help: "Print JSON: every place each image is named, with file, YAML path and line, and the doubts.")
    var json = false

    @Flag(help: "Fail (exit 1) on values that may or may not be images, listing where each is, instead of guessing.")
    var strict = false

    @Flag(name: .shortAndLong, help: "No warnings on stderr; the list alone.")
    var quiet = false

    func run() async throws {
        let report: DiscoveryReport
        do {
            guard !self.paths.isEmpty else {
                throw MirrorError(.usage, "name at least one values file, chart, manifest, bundle or list")
            }
            report = try ImageDiscovery().discover(self.paths)
        } catch {
            throw Run.exit(for: error)
        }
        if self.strict, !report.doubts.isEmpty {
            let lines = report.doubts.map { "  \($0)" }.joined(separator: "\n")
            let count = report.doubts.count
            throw Run.exit(for: MirrorError(.failed, "\(count) doubtful value\(count == 1 ? "" : "s") (--strict):\n\(lines)"))
        }
        if !self.json && !self.quiet {
            for doubt in report.doubts {
                FileHandle.standardError.write(Data("ferry: warning: \(doubt)\n".utf8))
            }
        }
        if report.images.isEmpty && !self.quiet {
            FileHandle.standardError.write(Data("ferry: warning: no images found in \(self.paths.joined(separator: " "))\n".utf8))
        }
        if self.json {
            print(try Self.json(report))
        } else {
            for reference in report.references {
                let notes = Self.notes(for: reference, in: report)
                print(notes.isEmpty ? reference.description : "\(reference)  # \(notes.joined(separator: "; "))")
            }
        }
    }

    /// Comments for the text list; they stay valid list syntax (`save -f` skips `#` comments).
    private static func notes(for reference: Reference, in report: DiscoveryReport) -> [String] {
        let places = report.images.filter { $0.reference == reference }
        var notes: [String] = []
        if report.isTagInferred(reference) { notes.append("tag from the chart's appVersion") }
        if places.allSatisfy({ $0.note != nil }), let note = places.first?.note { notes.append(note) }
        return notes
    }

    private struct Output: Encodable {
        struct Image: Encodable {
            var reference: String
            var file: String
            var path: String
            var line: Int?
            var tagInferred: Bool
            var note: String?
        }
        struct Doubt: Encodable {
            var file: String
            var path: String
            var line: Int?
            var value: String
            var reason: String
        }
        var images: [Image]
        var doubts: [Doubt]
    }

    static func json(_ report: DiscoveryReport) throws -> String {
        let images = report.images
            .map { Output.Image(reference: $0.reference.description, file: $0.file, path: $0.path, line: $0.line,
                                tagInferred: $0.tagInferred, note: $0.note) }
            .sorted { ($0.reference, $0.file, $0.line ?? 0, $0.path) < ($1.reference, $1.file, $1.line ?? 0, $1.path) }
        let doubts = report.doubts.map { Output.Doubt(file: $0.file, path: $0.path, line: $0.line, value: $0.value, reason: $0.reason) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Output(images: images, doubts: doubts)), as: UTF8.self)
    }
}

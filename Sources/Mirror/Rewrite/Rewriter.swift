import Foundation
import OCI

/// Where `rewrite` points images: a destination and layout, or a `--map` from `ferry load`.
public struct RewriteOptions: Sendable {
    /// How targets are named; unused when `map` is given.
    public var naming: TargetNaming?
    /// Targets and digests as `ferry load --map` wrote them; every image found must be in it.
    public var map: [ImageMapEntry]?

    public init(naming: TargetNaming?, map: [ImageMapEntry]? = nil) {
        self.naming = naming
        self.map = map
    }
}

/// What `rewrite` produced.
public struct RewriteOutput: Sendable {
    public enum Kind: Sendable, Hashable {
        /// A Helm values overlay to pass after the chart's values (`-f`).
        case overlay
        /// The manifests or bundle, rewritten.
        case file
        /// A plain list of the targets.
        case list
    }

    public var kind: Kind
    public var text: String
    /// Each source image and where it now points.
    public var targets: [Reference: Reference]
    /// Things the user must know: images no overlay can move, comments that could not be kept.
    public var warnings: [String]
}

/// `ferry rewrite`: points a values file, chart, manifests or Juju bundle at the private registry.
public struct Rewriter: Sendable {
    public init() {}

    public func rewrite(_ path: String, options: RewriteOptions) throws(MirrorError) -> RewriteOutput {
        let units = try SourceLoader.load(path)
        guard units.count == 1, let unit = units.first else {
            let found = units.map { "  \($0.shown)" }.joined(separator: "\n")
            throw MirrorError(.usage, units.isEmpty
                ? "\(path) holds nothing to rewrite"
                : "rewrite takes one values file, chart, bundle or manifest file; \(path) holds \(units.count):\n\(found)")
        }
        let images = unit.discover().images
        let references = Array(Set(images.filter { $0.form != .template }.map(\.reference)))
            .sorted { $0.description < $1.description }
        let targets = try TargetPlan.targets(for: references, naming: options.naming, map: options.map)
        let header = Self.header(unit.shown, options: options)

        switch unit {
        case .values(let source):
            let documents = try ValuesOverlay.documents(for: source, images: images, targets: targets)
            let warnings = images.filter { $0.form == .template }.map {
                "\($0.file):\($0.line ?? 0): \($0.reference.familiar) is \(TemplateScanner.note); "
                    + "load it under its own name or patch the template"
            }
            let body = documents.isEmpty ? "{}\n" : Self.spaced(try YAMLEmitter.text(documents))
            return RewriteOutput(kind: .overlay, text: header + body, targets: targets, warnings: warnings)
        case .documents(let file):
            let (text, warnings) = try DocumentRewrite.rewrite(file, images: images, targets: targets)
            return RewriteOutput(kind: .file, text: text, targets: targets, warnings: warnings)
        case .list(_, let text):
            return RewriteOutput(kind: .list, text: Self.list(text, targets: targets), targets: targets, warnings: [])
        }
    }

    /// Comment lines saying what the overlay is and how to use it.
    private static func header(_ shown: String, options: RewriteOptions) -> String {
        let where_ = options.map != nil ? "where ferry load put them (digests pinned)"
            : options.naming.map { "at \($0.destination) (--layout \($0.layout))" } ?? ""
        return "# Written by ferry rewrite: every image of \(shown) \(where_).\n"
            + "# Pass it after the chart's own values: helm upgrade --install RELEASE CHART -f values.yaml -f THIS_FILE\n"
    }

    /// A blank line before each top-level key after the first, as hand-written overlays have.
    private static func spaced(_ yaml: String) -> String {
        var lines: [Substring] = []
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let topLevelKey = !lines.isEmpty && line.first.map { !$0.isWhitespace && $0 != "-" && $0 != "#" } == true
            if topLevelKey, lines.last != "---", lines.last?.isEmpty == false { lines.append("") }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The list with each reference replaced by its target; comments and blank lines stay.
    private static func list(_ text: String, targets: [Reference: Reference]) -> String {
        var lines: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            var item = content.trimmingCharacters(in: .whitespaces)
            if item.hasPrefix("docker://") { item.removeFirst("docker://".count) }
            if !item.isEmpty, let source = try? Reference(parsing: item), let target = targets[source],
                let range = line.range(of: content.trimmingCharacters(in: .whitespaces))
            {
                line.replaceSubrange(range, with: target.description)
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

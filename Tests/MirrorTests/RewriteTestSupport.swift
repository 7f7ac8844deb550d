import Foundation
import OCI
import Yams
@testable import Mirror

/// What the rewrite tests share: Helm's merge of an overlay over values, done here independently of
/// Ferry's code, and a look at what the merged values name.
enum RewriteTestSupport {
    static let destination = Destination(registry: "registry.internal.corp.com", namespace: "akko")

    static func options(_ layout: NamingLayout = .path) -> RewriteOptions {
        RewriteOptions(naming: TargetNaming(destination: Self.destination, layout: layout))
    }

    /// Helm's rule: mappings merge key by key, anything else in the overlay replaces the value.
    static func deepMerge(_ base: Any?, _ overlay: Any?) -> Any? {
        guard let overlay else { return base }
        guard let baseMap = base as? [String: Any], let overlayMap = overlay as? [String: Any] else { return overlay }
        var merged = baseMap
        for (key, value) in overlayMap {
            merged[key] = Self.deepMerge(baseMap[key], value)
        }
        return merged
    }

    /// The overlay merged over the values file's text, as YAML.
    static func merged(values: String, overlay: String) throws -> String {
        let base = try Yams.load(yaml: values)
        let top = try Yams.load(yaml: overlay)
        return try Yams.dump(object: Self.deepMerge(base, top))
    }

    /// Writes `text` to a temporary file and returns what `ferry images` finds there.
    static func discover(_ text: String, name: String = "values.yaml") throws -> DiscoveryReport {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try ImageDiscovery().discover([file.path])
    }

    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-rewrite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// References that do not point into the private registry's namespace.
    static func outside(_ references: [Reference]) -> [String] {
        references.filter { !($0.registry == Self.destination.registry && $0.repository.hasPrefix(Self.destination.namespace + "/")) }
            .map(\.description)
    }

    /// What the source names, moved by `layout` (the set the merged values must name).
    static func expected(_ sources: Set<String>, layout: NamingLayout = .path) throws -> Set<String> {
        let naming = TargetNaming(destination: Self.destination, layout: layout)
        return Set(try naming.targets(for: sources.map { try Reference(parsing: $0) }).values.map(\.description))
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: DiscoveryFixtures.path(relative), encoding: .utf8)
    }
}

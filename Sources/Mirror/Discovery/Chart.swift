/// A Helm chart as discovery needs it: its name, `appVersion`, values and subcharts.
struct Chart: Sendable {
    /// A `dependencies` entry of `Chart.yaml`; `alias` is the key its values live under in the parent.
    struct Dependency: Sendable, Hashable {
        var name: String
        var alias: String?
    }

    var name: String
    var appVersion: String?
    var dependencies: [Dependency]
    /// The chart directory as shown to the user (inside an archive: `charts/x-1.0.tgz/x`).
    var shown: String
    /// `values.yaml` as shown to the user; it may not exist.
    var valuesFile: String
    /// The chart's own values: an empty mapping when it has none.
    var values: YAMLValue
    var subcharts: [Chart]
    /// Images written literally in `templates/`.
    var templateImages: [DiscoveredImage]

    /// The keys this subchart's values live under in a parent with `dependencies`: its aliases, or its name.
    /// A chart listed twice under two aliases is deployed twice, so it has two keys.
    func keys(in parent: Chart) -> [String] {
        let entries = parent.dependencies.filter { $0.name == self.name }
        let aliases = entries.map { $0.alias ?? $0.name }
        return aliases.isEmpty ? [self.name] : aliases
    }
}

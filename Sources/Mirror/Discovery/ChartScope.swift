/// The chart whose values hold a subtree of the merged values: its `appVersion` fills empty tags, and
/// its values file is where a value under that subtree is written unless the parent overrides it.
struct ChartScope: Sendable, Hashable {
    /// The chart's name in `Chart.yaml`.
    var name: String
    var appVersion: String?
    /// The chart's `values.yaml` as shown to the user (may not exist).
    var valuesFile: String
}

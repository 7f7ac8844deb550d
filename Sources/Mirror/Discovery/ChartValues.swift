/// A chart's values as Helm computes them before rendering: the chart's `values.yaml`, each subchart's
/// values under its key with the parent's overrides on top, and `global` shared downwards.
enum ChartValues {
    /// Helm's coalescing: mappings merge key by key, anything else in `override` replaces `base`, and a
    /// null in `override` removes the key. Nil means "no value".
    static func merge(_ base: YAMLValue?, _ override: YAMLValue?) -> YAMLValue? {
        guard let override else { return base }
        if override.isNull { return nil }
        guard let baseEntries = base?.entries, let overrideEntries = override.entries else { return override }
        var merged: [YAMLEntry] = []
        for entry in baseEntries {
            if let replacement = overrideEntries.last(where: { $0.key == entry.key }) {
                if let value = Self.merge(entry.value, replacement.value) {
                    merged.append(YAMLEntry(key: entry.key, keyPosition: entry.keyPosition, value: value))
                }
            } else {
                merged.append(entry)
            }
        }
        for entry in overrideEntries where !baseEntries.contains(where: { $0.key == entry.key }) && !entry.value.isNull {
            merged.append(entry)
        }
        return .mapping(merged)
    }

    /// The merged values of `chart` and its subcharts, and the scope of each chart by the path of its values.
    static func effective(_ chart: Chart) -> (values: YAMLValue, scopes: [YAMLPath: ChartScope]) {
        var scopes: [YAMLPath: ChartScope] = [:]
        let values = Self.effective(chart, override: nil, parentGlobal: nil, at: .root, scopes: &scopes)
        return (values, scopes)
    }

    /// Template images of the chart and its subcharts.
    static func templateImages(_ chart: Chart) -> [DiscoveredImage] {
        chart.templateImages + chart.subcharts.flatMap { Self.templateImages($0) }
    }

    private static func effective(_ chart: Chart, override: YAMLValue?, parentGlobal: YAMLValue?, at path: YAMLPath,
                                  scopes: inout [YAMLPath: ChartScope]) -> YAMLValue {
        scopes[path] = ChartScope(name: chart.name, appVersion: chart.appVersion, valuesFile: chart.valuesFile)
        var values = Self.merge(chart.values, override) ?? .mapping([])
        if values.entries == nil { values = .mapping([]) }
        // A parent's `global` wins over the subchart's own defaults, and reaches every subchart below.
        if let global = Self.merge(values["global"], parentGlobal) {
            values.set(global, at: YAMLPath([.key("global")]))
        }
        for subchart in chart.subcharts {
            for key in subchart.keys(in: chart) {
                let sub = Self.effective(subchart, override: values[key], parentGlobal: values["global"],
                                         at: path.appending(key), scopes: &scopes)
                values.set(sub, at: YAMLPath([.key(key)]))
            }
        }
        return values
    }
}

import Foundation

/// Decides what a path is and reads it: a chart (directory, `Chart.yaml` or `.tgz`), a values file,
/// manifests, a Juju bundle, a plain list, or a directory of those.
enum SourceLoader {
    /// Extensions read when a directory that is not a chart is given.
    static let extensions: Set<String> = ["yaml", "yml", "json", "txt", "list"]

    static func load(_ path: String) throws(MirrorError) -> [SourceUnit] {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MirrorError(.usage, "\(path) does not exist")
        }
        if isDirectory.boolValue {
            if ChartLoader.isChart(directory: url) {
                return [Self.chart(try ChartLoader.load(directory: url, shownAs: Self.trimmed(path)))]
            }
            return try Self.directory(url, shownAs: Self.trimmed(path))
        }
        if url.lastPathComponent == "Chart.yaml" {
            let directory = url.deletingLastPathComponent()
            let shown = (path as NSString).deletingLastPathComponent
            return [Self.chart(try ChartLoader.load(directory: directory, shownAs: shown.isEmpty ? "." : shown))]
        }
        if ChartLoader.isArchive(url) && !ArchiveImages.holdsImages(url) {
            return [Self.chart(try ChartLoader.load(archive: url, shownAs: path))]
        }
        if ArchiveImages.isArchive(url) {
            return [.list(file: path, text: try ArchiveImages.references(in: url).joined(separator: "\n"))]
        }
        return [try Self.file(url, shownAs: path)]
    }

    /// A directory that is not a chart: its charts, archives and YAML/list files, recursively, in name order.
    private static func directory(_ url: URL, shownAs shown: String) throws(MirrorError) -> [SourceUnit] {
        var units: [SourceUnit] = []
        for entry in ChartLoader.sortedContents(of: url) {
            let name = "\(shown)/\(entry.lastPathComponent)"
            if ChartLoader.isDirectory(entry) {
                if ChartLoader.isChart(directory: entry) {
                    units.append(Self.chart(try ChartLoader.load(directory: entry, shownAs: name)))
                } else {
                    units += try Self.directory(entry, shownAs: name)
                }
            } else if entry.pathExtension == "tgz" {
                // `helm package` writes .tgz; other archives found here (model or image tarballs, which may be
                // huge) are not opened, and a .tgz without a chart is passed over.
                if let chart = try ChartLoader.loadIfChart(archive: entry, shownAs: name) { units.append(Self.chart(chart)) }
            } else if Self.extensions.contains(entry.pathExtension.lowercased()) {
                units.append(try Self.file(entry, shownAs: name))
            }
        }
        return units
    }

    /// One file: YAML (values, manifests or a bundle) or, when it is not YAML with structure, a plain list.
    static func file(_ url: URL, shownAs shown: String) throws(MirrorError) -> SourceUnit {
        let text = try YAMLFile.readText(url, shownAs: shown)
        let file: YAMLFile
        do {
            file = try YAMLFile(file: shown, text: text)
        } catch {
            if PlainList.looksLikeList(text) { return .list(file: shown, text: text) }
            throw error
        }
        let structured = file.documents.contains { $0.entries != nil || $0.items != nil }
        if !structured {
            return .list(file: shown, text: text)
        }
        if file.documents.contains(where: { BundleWalker.isBundle($0) || Self.isKubernetesObject($0) }) {
            return .documents(file)
        }
        // A values file inside a chart directory takes the chart's appVersion for empty tags.
        var scope = ChartScope(name: "", appVersion: nil, valuesFile: shown)
        let chartFile = url.deletingLastPathComponent().appendingPathComponent("Chart.yaml")
        if FileManager.default.fileExists(atPath: chartFile.path),
            let meta = try? YAMLFile.read(chartFile, shownAs: "Chart.yaml").documents.first
        {
            scope.name = meta["name"]?.text ?? ""
            scope.appVersion = meta["appVersion"]?.text
        }
        return .values(ValuesSource(shown: shown, documents: file.documents, scopes: [.root: scope], templateImages: [],
                                    isChart: false))
    }

    private static func chart(_ chart: Chart) -> SourceUnit {
        let (values, scopes) = ChartValues.effective(chart)
        return .values(ValuesSource(shown: chart.shown, documents: [values], scopes: scopes,
                                    templateImages: ChartValues.templateImages(chart), isChart: true))
    }

    /// A Kubernetes object or list: `apiVersion` and `kind` strings at the top.
    static func isKubernetesObject(_ document: YAMLValue) -> Bool {
        document["apiVersion"]?.stringText != nil && document["kind"]?.stringText != nil
    }

    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }
}

import Foundation
import Spawn

/// Reads Helm charts from directories and `.tgz` archives, with their `charts/` subcharts (directories
/// and archives alike).
enum ChartLoader {
    /// True when `url` is a directory with a `Chart.yaml`.
    static func isChart(directory url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent("Chart.yaml").path)
    }

    /// True for `.tgz` and `.tar.gz`, the names `helm package` and `helm dependency update` write.
    static func isArchive(_ url: URL) -> Bool {
        let name = url.lastPathComponent
        return name.hasSuffix(".tgz") || name.hasSuffix(".tar.gz")
    }

    static func load(directory url: URL, shownAs shown: String) throws(MirrorError) -> Chart {
        let chartFile = try YAMLFile.read(url.appendingPathComponent("Chart.yaml"), shownAs: "\(shown)/Chart.yaml")
        let meta = chartFile.documents.first ?? .mapping([])
        guard let name = meta["name"]?.text, !name.isEmpty else {
            throw MirrorError(.failed, "\(shown)/Chart.yaml has no name: it is not a Helm chart")
        }
        var dependencies = Self.dependencies(in: meta)
        // Helm 2 charts list them in requirements.yaml.
        let requirements = url.appendingPathComponent("requirements.yaml")
        if dependencies.isEmpty, FileManager.default.fileExists(atPath: requirements.path) {
            let file = try YAMLFile.read(requirements, shownAs: "\(shown)/requirements.yaml")
            dependencies = Self.dependencies(in: file.documents.first ?? .mapping([]))
        }

        var valuesFile = "\(shown)/values.yaml"
        var values = YAMLValue.mapping([])
        for candidate in ["values.yaml", "values.yml"] {
            let valuesURL = url.appendingPathComponent(candidate)
            guard FileManager.default.fileExists(atPath: valuesURL.path) else { continue }
            valuesFile = "\(shown)/\(candidate)"
            let file = try YAMLFile.read(valuesURL, shownAs: valuesFile)
            if let document = file.documents.first, document.entries != nil { values = document }
            break
        }

        var subcharts: [Chart] = []
        let charts = url.appendingPathComponent("charts")
        for entry in Self.sortedContents(of: charts) {
            if Self.isChart(directory: entry) {
                subcharts.append(try Self.load(directory: entry, shownAs: "\(shown)/charts/\(entry.lastPathComponent)"))
            } else if Self.isArchive(entry) {
                subcharts.append(try Self.load(archive: entry, shownAs: "\(shown)/charts/\(entry.lastPathComponent)"))
            }
        }

        return Chart(name: name, appVersion: meta["appVersion"]?.text, dependencies: dependencies, shown: shown,
                     valuesFile: valuesFile, values: values, subcharts: subcharts,
                     templateImages: TemplateScanner.scan(url.appendingPathComponent("templates"), shownAs: "\(shown)/templates"))
    }

    /// Unpacks a chart archive into a temporary directory with `tar` (libarchive is not linked into Ferry),
    /// reads it, and removes the directory. Helm archives hold one top directory named after the chart.
    static func load(archive url: URL, shownAs shown: String) throws(MirrorError) -> Chart {
        guard let chart = try Self.loadIfChart(archive: url, shownAs: shown) else {
            throw MirrorError(.failed, "\(shown) holds no chart (no top directory with a Chart.yaml)")
        }
        return chart
    }

    /// Like `load(archive:shownAs:)`, but nil for an archive that holds no chart.
    static func loadIfChart(archive url: URL, shownAs shown: String) throws(MirrorError) -> Chart? {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-chart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw MirrorError(.failed, "cannot make a temporary directory to unpack \(shown): \(error.localizedDescription)")
        }
        try Self.untar(url, into: scratch, shown: shown)
        guard let top = Self.sortedContents(of: scratch).first(where: { Self.isChart(directory: $0) }) else { return nil }
        return try Self.load(directory: top, shownAs: "\(shown)/\(top.lastPathComponent)")
    }

    private static func untar(_ archive: URL, into directory: URL, shown: String) throws(MirrorError) {
        // GNU tar refuses members with `..` and strips leading `/` by default, so an archive cannot write
        // outside the scratch directory.
        let command = Command(
            ["/bin/tar", "-xzf", archive.path, "-C", directory.path, "--no-same-owner", "--no-same-permissions"],
            standardOutput: .null, standardError: .capture)
        let result: CommandOutput
        do {
            result = try command.runBlocking()
        } catch {
            throw MirrorError(.failed, "cannot run /bin/tar to unpack \(shown): \(error)")
        }
        guard result.status.succeeded else {
            let why = result.stderrString.trimmingCharacters(in: .whitespacesAndNewlines)
            throw MirrorError(.failed, "cannot unpack \(shown): \(why.isEmpty ? "tar failed" : why)")
        }
    }

    private static func dependencies(in meta: YAMLValue) -> [Chart.Dependency] {
        (meta["dependencies"]?.items ?? []).compactMap { item in
            guard let name = item["name"]?.text else { return nil }
            let alias = item["alias"]?.text
            return Chart.Dependency(name: name, alias: alias?.isEmpty == false ? alias : nil)
        }
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func sortedContents(of directory: URL) -> [URL] {
        let entries = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return entries.filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}

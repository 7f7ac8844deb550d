import Foundation
import OCI

/// Finds images that chart templates write literally (`image: busybox:1.36` in an initContainer). Templates
/// are Go templates, not YAML, so lines are read one by one; values with `{{` come from values and are
/// found there. A literal image is needed like any other, but no values overlay can move it.
enum TemplateScanner {
    static let note = "written literally in a chart template: a values overlay cannot change it"

    static func scan(_ directory: URL, shownAs shown: String) -> [DiscoveredImage] {
        var images: [DiscoveredImage] = []
        for entry in ChartLoader.sortedContents(of: directory) {
            let name = entry.lastPathComponent
            if ChartLoader.isDirectory(entry) {
                images += Self.scan(entry, shownAs: "\(shown)/\(name)")
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".tpl") {
                guard let text = try? String(contentsOf: entry, encoding: .utf8) else { continue }
                images += Self.images(in: text, file: "\(shown)/\(name)")
            }
        }
        return images
    }

    static func images(in text: String, file: String) -> [DiscoveredImage] {
        var images: [DiscoveredImage] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("- ") { line = String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("image:") else { continue }
            var value = line.dropFirst("image:".count).trimmingCharacters(in: .whitespaces)
            if let comment = value.range(of: " #") { value = String(value[..<comment.lowerBound]) }
            value = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            guard !value.isEmpty, !value.contains("{{"), let reference = try? Reference(parsing: value) else { continue }
            images.append(DiscoveredImage(reference: reference, file: file, path: "", line: index + 1, tagInferred: false,
                                          note: Self.note, form: .template, document: 0))
        }
        return images
    }
}

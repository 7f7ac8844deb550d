import Foundation
import OCI

/// A plain list of images: one reference a line, `#` comments, blank lines; `docker://` is accepted.
/// It is what `ferry images` prints and what `save -f` and `sync -f` read.
enum PlainList {
    /// One meaningful line.
    struct Entry: Sendable, Hashable {
        var line: Int
        var text: String
    }

    /// The lines that hold a reference (comments and blanks dropped, `docker://` removed).
    static func entries(in text: String) -> [Entry] {
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            var item = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !item.isEmpty else { continue }
            if item.hasPrefix("docker://") { item.removeFirst("docker://".count) }
            entries.append(Entry(line: index + 1, text: item))
        }
        return entries
    }

    /// True when `text` reads as a list: every meaningful line is one word, and none is YAML (`key: value`, `- x`).
    static func looksLikeList(_ text: String) -> Bool {
        let entries = Self.entries(in: text)
        return !entries.isEmpty && entries.allSatisfy { !$0.text.contains(where: \.isWhitespace) && !$0.text.hasSuffix(":") }
    }

    static func discover(_ text: String, file: String) -> (images: [DiscoveredImage], doubts: [DiscoveryDoubt]) {
        var images: [DiscoveredImage] = []
        var doubts: [DiscoveryDoubt] = []
        for entry in Self.entries(in: text) {
            do {
                let reference = try Reference(parsing: entry.text)
                images.append(DiscoveredImage(reference: reference, file: file, path: "", line: entry.line, tagInferred: false,
                                              note: nil, form: .line(entry.line), document: 0))
            } catch {
                doubts.append(DiscoveryDoubt(file: file, path: "", line: entry.line, value: entry.text, reason: error.message))
            }
        }
        return (images, doubts)
    }
}

import Foundation
import Yams

/// A file's text and its YAML documents.
struct YAMLFile: Sendable {
    /// As shown to the user.
    var file: String
    var text: String
    var documents: [YAMLValue]

    /// Parses every document of `text`. An empty document (a stray `---`) stays, as null, so document
    /// numbers match the file.
    init(file: String, text: String) throws(MirrorError) {
        self.file = file
        self.text = text
        do {
            var documents: [YAMLValue] = []
            for node in try Yams.compose_all(yaml: text) {
                documents.append(YAMLValue(node: node, file: file))
            }
            self.documents = documents
        } catch let error as YamlError {
            throw MirrorError(.failed, "\(file) is not valid YAML: \(Self.describe(error))")
        } catch {
            throw MirrorError(.failed, "\(file) is not valid YAML: \(error)")
        }
    }

    /// Reads and parses a file from disk.
    static func read(_ url: URL, shownAs file: String) throws(MirrorError) -> YAMLFile {
        try YAMLFile(file: file, text: try Self.readText(url, shownAs: file))
    }

    static func readText(_ url: URL, shownAs file: String) throws(MirrorError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MirrorError(.failed, "cannot read \(file): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MirrorError(.failed, "\(file) is not UTF-8 text")
        }
        return text
    }

    /// Yams' description repeats the whole snippet; the first line says where and what.
    private static func describe(_ error: YamlError) -> String {
        let text = "\(error)"
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}

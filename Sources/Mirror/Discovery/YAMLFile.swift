import Foundation
import Transfer
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
            // Not `compose_all`: its sequence ends quietly at a syntax error (or a duplicate key), which made a
            // broken values file look like an empty one.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
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
        let data: [UInt8]
        do {
            data = try readSmallFile(url.path)
        } catch {
            throw MirrorError(.failed, "cannot read \(file): \(error.message)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw MirrorError(.failed, "\(file) is not UTF-8 text")
        }
        return text
    }

    /// Where and what, in one line: Yams' own description repeats the whole snippet.
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)" + (context.map { " (\($0.text) at line \($0.mark.line))" } ?? "")
        default:
            let text = "\(error)"
            return text.split(separator: "\n").first.map(String.init) ?? text
        }
    }
}

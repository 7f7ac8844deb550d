import Foundation
import Testing

/// `--help` is read on 80-column terminals: prose must be wrapped by the help renderer, not broken by hand where the
/// source happened to break its lines (which left half-empty lines in the middle of sentences).
@Suite struct HelpTextTests {
    static let commands = ["", "copy", "save", "load", "sync", "verify", "images", "rewrite", "inspect", "bench"]

    @Test("every command's help is wrapped as flowing text, with examples that survive the wrapping", arguments: commands)
    func wrapped(command: String) async throws {
        let result = try await CLI().run(command.isEmpty ? ["--help"] : [command, "--help"])
        #expect(result.status == 0)
        let text = result.stdoutString
        #expect(text.contains("\nExamples"), "\(command) --help has no examples")
        // From the overview to the usage line: a line followed by more of the same paragraph must be full, i.e. the
        // next line's first word would not have fitted after it (lines are wrapped to at most 79 columns).
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let end = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
        for (line, next) in zip(lines[..<end], lines[1..<end]) where Self.isProse(line) && Self.isProse(next) {
            let word = next.split(separator: " ").first.map(String.init) ?? ""
            #expect(line.count + 1 + word.count >= 80, "\(command) --help breaks a sentence by hand after: \(line)")
        }
        // Examples survive an 80-column terminal whole: a long one goes on after a backslash, indented.
        let examples = try #require(lines.firstIndex { $0.hasPrefix("Examples") })
        var continued = false
        for line in lines[(examples + 1)...].prefix(while: { !$0.hasPrefix("USAGE:") }) where !line.isEmpty {
            let expected = continued ? line.hasPrefix("      ") : line.hasPrefix("  ferry ")
            #expect(expected, "\(command) --help: an example broken by the wrapper: \(line)")
            continued = line.hasSuffix(" \\")
        }
    }

    private static func isProse(_ line: String) -> Bool {
        !line.isEmpty && !line.hasPrefix(" ") && !line.hasSuffix(":") && !line.hasPrefix("OVERVIEW:")
    }
}

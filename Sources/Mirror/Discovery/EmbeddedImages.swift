import Foundation
import OCI

/// Images inside a string: JSON (katib's `custom_images`, CKF's `jupyter-images`) or a comma/space list.
enum EmbeddedImages {
    /// One string leaf of the embedded value, with the JSON keys leading to it.
    struct Leaf: Sendable, Hashable {
        var keys: [String]
        var text: String
    }

    /// The string leaves of `text` when it holds JSON; nil when it does not look like JSON or does not parse.
    ///
    /// A trailing comma before `}` or `]` is allowed: the Charmed Kubeflow guide's own `custom_images`
    /// example has one, and Juju passes the string through unchecked.
    static func jsonLeaves(in text: String) -> [Leaf]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{") || trimmed.hasPrefix("[") else { return nil }
        for candidate in [trimmed, Self.withoutTrailingCommas(trimmed)] {
            if let object = try? JSONSerialization.jsonObject(with: Data(candidate.utf8), options: [.fragmentsAllowed]) {
                var leaves: [Leaf] = []
                Self.collect(object, keys: [], into: &leaves)
                return leaves
            }
        }
        return nil
    }

    /// `a:1, b:2` or `a:1 b:2`: the pieces of a list written as one string.
    static func listItems(in text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }

    /// Replaces each whole occurrence of a reference in `text` (not part of a longer name: `app:1` does not
    /// match inside `app:10` or `myapp:1`).
    static func replacing(_ replacements: [(old: String, new: String)], in text: String) -> (text: String, count: Int) {
        var result = text
        var count = 0
        for (old, new) in replacements where old != new {
            var output = ""
            var rest = Substring(result)
            while let range = rest.range(of: old) {
                let before = range.lowerBound == rest.startIndex ? output.last : rest[rest.index(before: range.lowerBound)]
                let after = range.upperBound == rest.endIndex ? nil : rest[range.upperBound]
                output += rest[..<range.lowerBound]
                if Self.isBoundary(before) && Self.isBoundary(after) {
                    output += new
                    count += 1
                } else {
                    output += old
                }
                rest = rest[range.upperBound...]
            }
            output += rest
            result = output
        }
        return (result, count)
    }

    /// True when `character` cannot be part of a reference.
    static func isBoundary(_ character: Character?) -> Bool {
        guard let c = character else { return true }
        return !(c.isASCII && (c.isLetter || c.isNumber || "._-/:@".contains(c)))
    }

    private static func collect(_ object: Any, keys: [String], into leaves: inout [Leaf]) {
        switch object {
        case let string as String:
            leaves.append(Leaf(keys: keys, text: string))
        case let dictionary as [String: Any]:
            for key in dictionary.keys.sorted() {
                Self.collect(dictionary[key]!, keys: keys + [key], into: &leaves)
            }
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                Self.collect(element, keys: keys + ["\(index)"], into: &leaves)
            }
        default:
            break
        }
    }

    /// Drops commas that only whitespace separates from a closing `}` or `]`, outside strings.
    static func withoutTrailingCommas(_ text: String) -> String {
        var output: [Character] = []
        var inString = false, escaped = false
        let characters = Array(text)
        for (index, c) in characters.enumerated() {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                output.append(c)
                continue
            }
            if c == "\"" { inString = true }
            if c == "," {
                let next = characters[(index + 1)...].first { !$0.isWhitespace }
                if next == "}" || next == "]" { continue }
            }
            output.append(c)
        }
        return String(output)
    }
}

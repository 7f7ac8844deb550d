/// Makes scalar edits in the text itself, so comments, key order, quoting and layout stay as they were.
///
/// Yams (libyaml) drops comments when it writes YAML, and a bundle or a set of manifests is a file people
/// read and diff. Each scalar is found from the line and column libyaml reported, its extent is read from
/// its style, and only the references inside it change. When a scalar cannot be located exactly (a plain
/// scalar folded over several lines, an escape inside a reference) nil is returned and the caller writes
/// the tree with Yams instead.
enum TextEdits {
    static func apply(_ edits: [ScalarEdit], to text: String) -> String? {
        var scalars = Array(text.unicodeScalars)
        var lineStarts = [0]
        for (index, scalar) in scalars.enumerated() where scalar == "\n" { lineStarts.append(index + 1) }

        var located: [(range: Range<Int>, replacement: [Unicode.Scalar])] = []
        for edit in edits {
            guard let position = edit.scalar.position, position.line - 1 < lineStarts.count else { return nil }
            let offset = lineStarts[position.line - 1] + position.column - 1
            guard offset < scalars.count, let extent = Self.extent(of: edit.scalar, at: offset, in: scalars, lineStarts: lineStarts)
            else { return nil }
            let raw = String(String.UnicodeScalarView(scalars[extent]))
            let (replaced, count) = EmbeddedImages.replacing(edit.replacements, in: raw)
            let expected = edit.replacements.filter { $0.old != $0.new }.count
            guard count >= expected else { return nil }
            if !Self.fits(replaced, style: edit.scalar.style) { return nil }
            located.append((extent, Array(replaced.unicodeScalars)))
        }
        // From the end, so earlier offsets stay valid.
        for edit in located.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            scalars.replaceSubrange(edit.range, with: edit.replacement)
        }
        return String(String.UnicodeScalarView(scalars))
    }

    /// The characters of the scalar's content: between the quotes, the plain text, or a block's lines.
    private static func extent(of scalar: YAMLScalar, at offset: Int, in text: [Unicode.Scalar], lineStarts: [Int]) -> Range<Int>? {
        switch scalar.style {
        case .plain:
            let value = Array(scalar.text.unicodeScalars)
            let end = offset + value.count
            guard end <= text.count, Array(text[offset..<end]) == value else { return nil }
            return offset..<end
        case .singleQuoted:
            guard text[offset] == "'" else { return nil }
            var index = offset + 1
            while index < text.count {
                if text[index] == "'" {
                    if index + 1 < text.count, text[index + 1] == "'" { index += 2; continue }
                    return (offset + 1)..<index
                }
                index += 1
            }
            return nil
        case .doubleQuoted:
            guard text[offset] == "\"" else { return nil }
            var index = offset + 1
            while index < text.count {
                if text[index] == "\\" { index += 2; continue }
                if text[index] == "\"" { return (offset + 1)..<index }
                index += 1
            }
            return nil
        case .literal, .folded:
            // The block holds the lines after the indicator that are blank or indented deeper than the
            // line the indicator is on.
            guard let line = lineStarts.lastIndex(where: { $0 <= offset }) else { return nil }
            let indent = Self.indentation(ofLine: line, in: text, lineStarts: lineStarts)
            let start = line + 1 < lineStarts.count ? lineStarts[line + 1] : text.count
            var end = start
            var next = line + 1
            while next < lineStarts.count {
                let lineStart = lineStarts[next]
                let lineEnd = next + 1 < lineStarts.count ? lineStarts[next + 1] : text.count
                let content = text[lineStart..<lineEnd]
                let blank = content.allSatisfy { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
                if !blank, Self.indentation(ofLine: next, in: text, lineStarts: lineStarts) <= indent { break }
                end = lineEnd
                next += 1
            }
            return start..<end
        }
    }

    private static func indentation(ofLine line: Int, in text: [Unicode.Scalar], lineStarts: [Int]) -> Int {
        var index = lineStarts[line]
        while index < text.count, text[index] == " " { index += 1 }
        return index - lineStarts[line]
    }

    /// References never need escaping, but a replacement must not end a quoted scalar early.
    private static func fits(_ text: String, style: YAMLScalar.Style) -> Bool {
        switch style {
        case .plain: !text.contains(": ") && !text.contains(" #")
        case .singleQuoted, .doubleQuoted, .literal, .folded: true
        }
    }
}

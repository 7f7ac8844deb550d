import Yams

/// Writes `YAMLValue` trees as YAML text with Yams, keeping key order and each string a string.
enum YAMLEmitter {
    /// The documents, separated by `---` when there are several.
    static func text(_ documents: [YAMLValue]) throws(MirrorError) -> String {
        do {
            return try documents.map { try Yams.serialize(node: Self.node($0), indent: 2, width: -1, allowUnicode: true) }
                .joined(separator: "---\n")
        } catch {
            throw MirrorError(.failed, "cannot write YAML: \(error)")
        }
    }

    static func node(_ value: YAMLValue) -> Node {
        switch value {
        case .mapping(let entries):
            return Node(entries.map { (Self.keyNode($0.key), Self.node($0.value)) })
        case .sequence(let items):
            return Node(items.map(Self.node))
        case .scalar(let scalar):
            return Self.node(scalar)
        }
    }

    /// libyaml writes a plain scalar whenever its characters allow, without asking what type a reader
    /// will take it for; a string that reads as a number, boolean or null (`"473"`, `"2026.04"`, `"on"`)
    /// is therefore quoted here, or Helm would get a number.
    private static func node(_ scalar: YAMLScalar) -> Node {
        guard scalar.kind == .string else { return Node(scalar.text) }
        var style: Node.Scalar.Style = switch scalar.style {
        case .plain: .plain
        case .singleQuoted: .singleQuoted
        case .doubleQuoted: .doubleQuoted
        case .literal: .literal
        case .folded: .folded
        }
        if style == .plain, Self.readsAsOtherType(scalar.text) { style = .doubleQuoted }
        return Node(scalar.text, Tag(.str), style)
    }

    private static func keyNode(_ key: String) -> Node {
        Node(key, Tag(.str), Self.readsAsOtherType(key) ? .doubleQuoted : .plain)
    }

    private static func readsAsOtherType(_ text: String) -> Bool {
        text.isEmpty || Resolver.default.resolveTag(of: Node(text)) != .str
    }
}

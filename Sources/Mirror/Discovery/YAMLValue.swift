import Yams

/// Where a scalar was written: file (as shown to the user), 1-based line and column (in Unicode scalars,
/// as libyaml counts them).
struct SourcePosition: Sendable, Hashable {
    var file: String
    var line: Int
    var column: Int
}

/// A scalar with the type YAML 1.1 resolves it to and the style it was written in.
struct YAMLScalar: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case string, int, float, bool, null, other }
    enum Style: Sendable, Hashable { case plain, singleQuoted, doubleQuoted, literal, folded }

    var text: String
    var kind: Kind
    var style: Style
    var position: SourcePosition?

    init(_ text: String, kind: Kind = .string, style: Style = .plain, position: SourcePosition? = nil) {
        self.text = text
        self.kind = kind
        self.style = style
        self.position = position
    }
}

/// A YAML value that remembers, scalar by scalar, where it came from, so chart values merged from several
/// files still say which file and line an image is written on. Yams' `Node` does not carry the file and
/// is not `Sendable`; this is the small tree discovery and rewrite work on.
indirect enum YAMLValue: Sendable, Hashable {
    case scalar(YAMLScalar)
    case mapping([YAMLEntry])
    case sequence([YAMLValue])

    static func string(_ text: String, style: YAMLScalar.Style = .plain) -> YAMLValue {
        .scalar(YAMLScalar(text, kind: .string, style: style))
    }

    var scalar: YAMLScalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }

    var entries: [YAMLEntry]? {
        if case .mapping(let e) = self { return e }
        return nil
    }

    var items: [YAMLValue]? {
        if case .sequence(let i) = self { return i }
        return nil
    }

    /// The text of a string, number or other non-null scalar; nil for null, booleans, maps and lists.
    var text: String? {
        guard let s = self.scalar, s.kind != .null, s.kind != .bool else { return nil }
        return s.text
    }

    /// The text of a scalar that YAML reads as a string (quoted, or plain and not a number/bool/null).
    var stringText: String? {
        guard let s = self.scalar, s.kind == .string else { return nil }
        return s.text
    }

    var isNull: Bool { self.scalar?.kind == .null }

    subscript(key: String) -> YAMLValue? {
        self.entries?.last(where: { $0.key == key })?.value
    }

    /// The value at `path`, if every step exists.
    func value(at path: YAMLPath) -> YAMLValue? {
        var current = self
        for component in path.components {
            switch component {
            case .key(let key):
                guard let next = current[key] else { return nil }
                current = next
            case .index(let index):
                guard let items = current.items, items.indices.contains(index) else { return nil }
                current = items[index]
            }
        }
        return current
    }

    /// Sets the value at `path`, making mappings on the way; false when a step is a list index that does
    /// not exist or crosses a scalar.
    @discardableResult
    mutating func set(_ value: YAMLValue, at path: YAMLPath) -> Bool {
        guard let first = path.components.first else {
            self = value
            return true
        }
        let rest = YAMLPath(Array(path.components.dropFirst()))
        switch first {
        case .key(let key):
            var entries: [YAMLEntry]
            switch self {
            case .mapping(let existing): entries = existing
            case .scalar(let s) where s.kind == .null: entries = []
            default: return false
            }
            if let i = entries.lastIndex(where: { $0.key == key }) {
                guard entries[i].value.set(value, at: rest) else { return false }
            } else {
                var child = YAMLValue.mapping([])
                guard child.set(value, at: rest) else { return false }
                entries.append(YAMLEntry(key: key, value: child))
            }
            self = .mapping(entries)
            return true
        case .index(let index):
            guard var items = self.items, items.indices.contains(index) else { return false }
            guard items[index].set(value, at: rest) else { return false }
            self = .sequence(items)
            return true
        }
    }
}

/// One key and value of a mapping; keys that are not strings are kept as their text.
struct YAMLEntry: Sendable, Hashable {
    var key: String
    var keyPosition: SourcePosition?
    var value: YAMLValue

    init(key: String, keyPosition: SourcePosition? = nil, value: YAMLValue) {
        self.key = key
        self.keyPosition = keyPosition
        self.value = value
    }
}

extension YAMLValue {
    /// Converts a Yams node, expanding `<<` merge keys as Helm's YAML library does (explicit keys win).
    init(node: Node, file: String) {
        func position(_ mark: Mark?) -> SourcePosition? {
            mark.map { SourcePosition(file: file, line: $0.line, column: $0.column) }
        }
        switch node {
        case .scalar(let scalar):
            let kind: YAMLScalar.Kind = switch node.tag.description {
            case Tag.Name.str.rawValue: .string
            case Tag.Name.int.rawValue: .int
            case Tag.Name.float.rawValue: .float
            case Tag.Name.bool.rawValue: .bool
            case Tag.Name.null.rawValue: .null
            default: .other
            }
            let style: YAMLScalar.Style = switch scalar.style {
            case .singleQuoted: .singleQuoted
            case .doubleQuoted: .doubleQuoted
            case .literal: .literal
            case .folded: .folded
            default: .plain
            }
            self = .scalar(YAMLScalar(scalar.string, kind: kind, style: style, position: position(scalar.mark)))
        case .sequence(let sequence):
            self = .sequence(sequence.map { YAMLValue(node: $0, file: file) })
        case .mapping(let mapping):
            var entries: [YAMLEntry] = []
            var merged: [YAMLEntry] = []
            for (key, value) in mapping {
                if key.tag.description == Tag.Name.merge.rawValue {
                    let sources = value.sequence.map { Array($0) } ?? [value]
                    for source in sources {
                        merged += YAMLValue(node: source, file: file).entries ?? []
                    }
                    continue
                }
                entries.append(YAMLEntry(key: key.string ?? key.scalar?.string ?? "\(key)", keyPosition: position(key.mark),
                                         value: YAMLValue(node: value, file: file)))
            }
            for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
                entries.append(entry)
            }
            self = .mapping(entries)
        case .alias:
            // Yams resolves aliases while composing; an unresolved one has nothing to offer.
            self = .scalar(YAMLScalar("", kind: .null))
        }
    }
}

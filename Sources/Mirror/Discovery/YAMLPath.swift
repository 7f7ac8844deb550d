/// Where a value sits inside a YAML document: `jupyterhub.hub.image`, `spec.template.spec.containers[0].image`.
struct YAMLPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    var components: [Component]

    init(_ components: [Component] = []) {
        self.components = components
    }

    static let root = YAMLPath()

    func appending(_ key: String) -> YAMLPath { YAMLPath(self.components + [.key(key)]) }
    func appending(index: Int) -> YAMLPath { YAMLPath(self.components + [.index(index)]) }
    func appending(_ other: YAMLPath) -> YAMLPath { YAMLPath(self.components + other.components) }

    var parent: YAMLPath { YAMLPath(Array(self.components.dropLast())) }

    var lastKey: String? {
        if case .key(let key)? = self.components.last { return key }
        return nil
    }

    func hasPrefix(_ prefix: YAMLPath) -> Bool {
        self.components.starts(with: prefix.components)
    }

    /// This path with `prefix` removed from its front (unchanged when it does not start with it).
    func dropping(_ prefix: YAMLPath) -> YAMLPath {
        self.hasPrefix(prefix) ? YAMLPath(Array(self.components.dropFirst(prefix.components.count))) : self
    }

    /// Keys are joined with dots; a key that holds a dot, a bracket, a quote or a space is written `["a.b"]`,
    /// as yq and jq spell it, so the path stays unambiguous.
    var description: String {
        var text = ""
        for component in self.components {
            switch component {
            case .index(let i):
                text += "[\(i)]"
            case .key(let key):
                let plain = !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "/" }
                if plain {
                    text += text.isEmpty ? key : ".\(key)"
                } else {
                    let escaped = key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    text += "[\"\(escaped)\"]"
                }
            }
        }
        return text
    }

    static func < (lhs: YAMLPath, rhs: YAMLPath) -> Bool { lhs.description < rhs.description }
}

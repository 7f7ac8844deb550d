/// An ordered list of header fields; lookups ignore case, as HTTP does.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (n, v) in elements { self.add(n, v) }
    }

    public mutating func add(_ name: String, _ value: String) {
        self.fields.append((name, value))
    }

    /// Replaces every field named `name` with one holding `value`.
    public mutating func set(_ name: String, _ value: String) {
        self.remove(name)
        self.add(name, value)
    }

    public mutating func remove(_ name: String) {
        self.fields.removeAll { $0.name.lowercased() == name.lowercased() }
    }

    /// The first value of `name`, if any.
    public subscript(_ name: String) -> String? {
        let lower = name.lowercased()
        return self.fields.first { $0.name.lowercased() == lower }?.value
    }

    public func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return self.fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        self.fields.makeIterator()
    }

    /// Header names that carry secrets; printed as `<redacted>` wherever headers are shown.
    static let secretNames: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    /// Safe to print: credentials are redacted.
    public var description: String {
        self.fields.map { f in
            HTTPHeaders.secretNames.contains(f.name.lowercased()) ? "\(f.name): <redacted>" : "\(f.name): \(f.value)"
        }.joined(separator: "\n")
    }
}

/// A hand-rolled argv parser: `--name VALUE`, `--name=VALUE` and bare `--flag`.
///
/// The testkit deliberately avoids swift-argument-parser: it is started by scripts and the launcher,
/// never by people, so a strict, tiny parser is enough and keeps the target's dependencies to NIO.
struct Arguments {
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []

    /// - Parameters:
    ///   - argv: the words after the subcommand.
    ///   - options: names (without `--`) that take a value; they may repeat.
    ///   - flags: names that take no value.
    init(_ argv: ArraySlice<String>, options: Set<String>, flags knownFlags: Set<String> = []) throws {
        var words = argv.makeIterator()
        while let word = words.next() {
            guard word.hasPrefix("--") else { throw UsageError("unexpected argument '\(word)'") }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if knownFlags.contains(name) {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value") }
                self.flags.insert(name)
            } else if options.contains(name) {
                guard let value = inlineValue ?? words.next() else { throw UsageError("--\(name) needs a value") }
                self.values[name, default: []].append(value)
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    func required(_ name: String) throws -> String {
        guard let value = self.values[name]?.last else { throw UsageError("--\(name) is required") }
        return value
    }

    func optional(_ name: String) -> String? { self.values[name]?.last }

    func all(_ name: String) -> [String] { self.values[name] ?? [] }

    func flag(_ name: String) -> Bool { self.flags.contains(name) }
}

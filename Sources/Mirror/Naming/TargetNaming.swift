import OCI

/// The one naming function `load`, `sync` and `rewrite` share: where a source image goes under a destination.
///
/// Tags and digests are kept as they are. A source that is already under the destination keeps its name, so
/// running `rewrite` on an already rewritten file changes nothing.
public struct TargetNaming: Sendable, Hashable {
    public let destination: Destination
    public let layout: NamingLayout

    public init(destination: Destination, layout: NamingLayout = .path) {
        self.destination = destination
        self.layout = layout
    }

    /// The target of one source, without looking for collisions; use `targets(for:)` for a set of images.
    public func target(for source: Reference) throws(MirrorError) -> Reference {
        if self.destination.contains(source) { return source }
        let kept = try self.keptPath(of: source)
        let path = self.destination.namespace.isEmpty ? kept : "\(self.destination.namespace)/\(kept)"
        // The kept path is made only of components that were valid in the source, and the namespace was
        // validated by `Destination`; parsing the result once more guards the one case that can still fail:
        // a name longer than 255 characters.
        var text = "\(self.destination.registry)/\(path)"
        if let tag = source.tag { text += ":\(tag)" }
        if let digest = source.digest { text += "@\(digest)" }
        do {
            _ = try Reference(parsing: text)
        } catch {
            throw MirrorError(.failed, "\(source) cannot be named under \(self.destination) with --layout \(self.layout): \(error.message)")
        }
        // Built from parts, not from the parsed text: a destination of `docker.io` without a namespace
        // must not gain `library/`.
        return Reference(registry: self.destination.registry, repository: path, tag: source.tag, digest: source.digest)
    }

    /// The target of every source, refusing (before anything is pushed) two different source repositories
    /// that would land in one target repository, since one would silently overwrite or mix with the other.
    ///
    /// Collisions are judged by repository, not by tag: `quay.io/prometheus/prometheus:v3` and
    /// `prom/prometheus:v2` are both `REG/NS/prometheus` with `--layout flat`, and are refused even though
    /// their tags differ.
    public func targets(for sources: some Sequence<Reference>) throws(MirrorError) -> [Reference: Reference] {
        var targets: [Reference: Reference] = [:]
        var owners: [String: Set<String>] = [:]  // target repository name → source repository names
        for source in sources where targets[source] == nil {
            let target = try self.target(for: source)
            targets[source] = target
            owners[target.name, default: []].insert(source.name)
        }
        let clashes = owners.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
        guard clashes.isEmpty else {
            let lines = clashes.map { target, sources in
                "  " + sources.sorted().joined(separator: " and ") + " would both be \(target)"
            }
            let advice = switch self.layout {
            case .flat: "use --layout path (keeps the repository path) or --layout scoped (keeps the host too)"
            case .path: "use --layout scoped (keeps the source registry's host)"
            case .scoped: "one of them is already under \(self.destination); rename or remove it"
            }
            throw MirrorError(.failed, "two different sources map to one target with --layout \(self.layout):\n"
                + lines.joined(separator: "\n") + "\n" + advice)
        }
        return targets
    }

    /// The part of the source name the layout keeps.
    private func keptPath(of source: Reference) throws(MirrorError) -> String {
        var path = source.repository
        // Docker Hub's official images live under `library/` only by convention; nobody writes it.
        if source.registry == Reference.dockerHub, path.hasPrefix("library/") {
            path.removeFirst("library/".count)
        }
        switch self.layout {
        case .path:
            return path
        case .flat:
            return String(path.split(separator: "/").last ?? Substring(path))
        case .scoped:
            return "\(try Self.scope(of: source.registry))/\(source.repository)"
        }
    }

    /// A registry host as one repository path component: `quay.io` stays, `localhost:5000` becomes
    /// `localhost-5000` (a ':' is not allowed in a repository path).
    static func scope(of host: String) throws(MirrorError) -> String {
        var scope = host.lowercased().replacingOccurrences(of: ":", with: "-")
        scope.removeAll { $0 == "[" || $0 == "]" }
        let valid = scope.first.map { $0.isLetter || $0.isNumber } == true && scope.last.map { $0.isLetter || $0.isNumber } == true
            && scope.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }
        guard valid else {
            throw MirrorError(.failed, "registry \(host) cannot be a path component with --layout scoped; use --layout path")
        }
        return scope
    }
}

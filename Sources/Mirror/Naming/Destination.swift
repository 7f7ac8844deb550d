import OCI

/// Where images go: `REGISTRY[/NAMESPACE]`, as given to `--to`.
///
/// The first component is always the registry, even without a `.` or `:` (`--to registry/akko` means the
/// host `registry`): nobody pushes a whole air-gap set into one Docker Hub account by accident.
public struct Destination: Sendable, Hashable, CustomStringConvertible {
    /// Host and optional port, e.g. `registry.internal.corp.com` or `127.0.0.1:5000`.
    public let registry: String
    /// Repository path prefix without slashes at either end, e.g. `akko` or `team/akko`; empty for none.
    public let namespace: String

    /// Parses `REGISTRY[/NAMESPACE]`; a `docker://` prefix and trailing slashes are accepted.
    public init(parsing text: String) throws(MirrorError) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") || rest.hasPrefix("https://") {
            throw MirrorError(.usage, "--to \(text): write REGISTRY[/NAMESPACE] without http:// or https:// (Ferry tries HTTPS; for a plain-HTTP registry pass --tls-verify=false)")
        }
        if rest.hasPrefix("docker://") { rest = rest.dropFirst("docker://".count) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty else {
            throw MirrorError(.usage, "--to needs REGISTRY[/NAMESPACE], e.g. registry.internal.corp.com/akko")
        }
        if rest.contains("@") || rest.split(separator: "/").dropFirst().contains(where: { $0.contains(":") }) {
            throw MirrorError(.usage, "--to \(text): give a registry and namespace only, without a tag or digest (REGISTRY[/NAMESPACE])")
        }
        let slash = rest.firstIndex(of: "/")
        let host = String(slash.map { rest[..<$0] } ?? rest)
        let namespace = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        self.registry = try Self.validate(host: host, namespace: namespace, input: text)
        self.namespace = namespace
    }

    /// Makes a destination from parts already known to be valid (tests, `load`'s own plans).
    public init(registry: String, namespace: String = "") {
        self.registry = registry
        self.namespace = namespace
    }

    /// `REGISTRY/NAMESPACE`, or `REGISTRY` without a namespace.
    public var description: String { self.namespace.isEmpty ? self.registry : "\(self.registry)/\(self.namespace)" }

    /// True when `reference` is already stored under this destination (same registry, inside the namespace).
    public func contains(_ reference: Reference) -> Bool {
        guard reference.registry == self.registry else { return false }
        return self.namespace.isEmpty || reference.repository.hasPrefix(self.namespace + "/")
    }

    /// The reference grammar lives in `OCI`; it is reused by parsing a stand-in reference, so a host or a
    /// namespace that `Reference(parsing:)` would refuse later is refused here, before anything runs.
    /// Returns the host as references spell it (`index.docker.io` is `docker.io`).
    private static func validate(host: String, namespace: String, input: String) throws(MirrorError) -> String {
        let probe = namespace.isEmpty ? "x" : "\(namespace)/x"
        // A host without '.' or ':' would be read as a Docker Hub path; a stand-in port forces it to be a host.
        let hostForm = host.contains(".") || host.contains(":") || host == "localhost" ? host : "\(host):1"
        let parsed: Reference
        do {
            parsed = try Reference(parsing: "\(hostForm)/\(probe)")
        } catch {
            // Neither the stand-in port nor the stand-in repository may show up in the message: only the reason.
            let why = hostForm == host ? error.reason : "\(host) is not a valid registry host (HOST[:PORT])"
            throw MirrorError(.usage, "--to \(input): \(why)")
        }
        guard hostForm == host else { return host }
        guard parsed.registry == host || parsed.registry == Reference.dockerHub else {
            throw MirrorError(.usage, "--to \(input): \(host) is not a registry host")
        }
        return parsed.registry
    }
}

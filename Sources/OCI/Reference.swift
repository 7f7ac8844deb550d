/// An image reference, `registry/repository[:tag][@digest]`, normalised as Docker does.
///
/// `nginx` is `docker.io/library/nginx:latest`. A reference may carry both a tag and a digest
/// (`host/app:1.0@sha256:…`); the digest then decides what is fetched.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    /// The registry host and optional port, `docker.io` for Docker Hub.
    public var registry: String
    /// The repository path, e.g. `library/nginx`.
    public var repository: String
    /// nil when only a digest was given; `latest` is filled in only when neither was.
    public var tag: String?
    public var digest: Digest?

    /// Makes a reference from parts, as they are: no validation or normalisation.
    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Docker Hub's name in references.
    public static let dockerHub = "docker.io"
    /// The host that serves Docker Hub's registry API.
    public static let dockerHubAPI = "registry-1.docker.io"

    /// `registry/repository`, e.g. `docker.io/library/nginx`.
    public var name: String { "\(self.registry)/\(self.repository)" }

    /// The full normalised form: `docker.io/library/nginx:latest`, `host:5000/a/b:t@sha256:…`.
    public var description: String { self.name + self.suffix }

    /// Docker's short form, as `docker images` shows it: `nginx:latest`, `user/app:1`.
    public var familiar: String {
        guard self.registry == Self.dockerHub else { return self.description }
        var path = self.repository
        if path.hasPrefix("library/"), !path.dropFirst("library/".count).contains("/") {
            path.removeFirst("library/".count)
        }
        return path + self.suffix
    }

    /// What goes after `/manifests/` in a registry URL: the digest if there is one, else the tag.
    public var identifier: String {
        self.digest?.description ?? self.tag ?? "latest"
    }

    /// The host a client talks to: `registry-1.docker.io` for Docker Hub, else `registry`.
    public var apiRegistry: String {
        self.registry == Self.dockerHub ? Self.dockerHubAPI : self.registry
    }

    /// The same repository with another tag (nil removes it); the digest is kept.
    public func with(tag: String?) -> Reference {
        var copy = self
        copy.tag = tag
        return copy
    }

    /// The same repository with another digest (nil removes it); the tag is kept.
    public func with(digest: Digest?) -> Reference {
        var copy = self
        copy.digest = digest
        return copy
    }

    private var suffix: String {
        var text = ""
        if let tag = self.tag { text += ":\(tag)" }
        if let digest = self.digest { text += "@\(digest)" }
        return text
    }
}

extension Reference: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do {
            try self.init(parsing: string)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

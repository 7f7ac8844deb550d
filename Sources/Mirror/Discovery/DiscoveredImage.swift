import OCI

/// One place an image reference was found.
public struct DiscoveredImage: Sendable, Hashable {
    /// The reference, normalised as Docker does (`nginx` is `docker.io/library/nginx:latest`).
    public var reference: Reference
    /// The file it is written in, as the user named it (inside a chart archive: `charts/x.tgz/x/values.yaml`).
    public var file: String
    /// Its YAML path in that file (`jupyterhub.hub.image`); for plain lists and templates, empty.
    public var path: String
    /// 1-based line, where known.
    public var line: Int?
    /// True when the tag is the owning chart's `appVersion` because the values leave it empty.
    public var tagInferred: Bool
    /// Said next to the image when there is something to know, e.g. that a template hard-codes it.
    public var note: String?

    /// How it is written, which is what `rewrite` changes; paths here are from the document's root
    /// (for a chart, the umbrella chart's values), not from `file`.
    var form: ImageForm
    /// Which YAML document of the file (0-based).
    var document: Int
}

/// A value that may or may not be an image, or an image whose name had to be guessed. `ferry images`
/// warns about these; `--strict` fails on them.
public struct DiscoveryDoubt: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var path: String
    public var line: Int?
    public var value: String
    /// Why it is doubtful and what to do about it.
    public var reason: String

    /// `file:line: path: "value": reason`.
    public var description: String {
        let place = self.line.map { "\(self.file):\($0)" } ?? self.file
        let path = self.path.isEmpty ? "" : " \(self.path):"
        return "\(place):\(path) \"\(self.value)\": \(self.reason)"
    }
}

/// What `ferry images` found in some paths.
public struct DiscoveryReport: Sendable {
    /// Every place found, in the order of the files.
    public var images: [DiscoveredImage]
    public var doubts: [DiscoveryDoubt]

    /// The distinct references, sorted by their full normalised text.
    public var references: [Reference] {
        Array(Set(self.images.map(\.reference))).sorted { $0.description < $1.description }
    }

    /// True when every place a reference was found got its tag from an `appVersion`.
    public func isTagInferred(_ reference: Reference) -> Bool {
        let places = self.images.filter { $0.reference == reference }
        return !places.isEmpty && places.allSatisfy(\.tagInferred)
    }
}

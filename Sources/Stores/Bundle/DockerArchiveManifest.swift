/// One entry of a `docker load` archive's `manifest.json` (moby `image/tarexport`): the config and layers of one
/// image, by path inside the archive, and the tags it loads as.
public struct DockerArchiveEntry: Sendable, Hashable, Codable {
    public var config: String
    public var repoTags: [String]?
    public var layers: [String]

    public init(config: String, repoTags: [String]?, layers: [String]) {
        self.config = config
        self.repoTags = repoTags
        self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case repoTags = "RepoTags"
        case layers = "Layers"
    }
}

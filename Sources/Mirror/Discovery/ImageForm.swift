/// How an image is written, so `rewrite` can write the new name the same way.
enum ImageForm: Sendable, Hashable {
    /// One scalar holds the whole reference: `image: nginx:1.27`, a Juju `oci-image` resource.
    case whole(YAMLPath)
    /// Keys of one mapping: `image: {registry, repository, tag, digest}`, JupyterHub's `{name, tag}`,
    /// or a pair of siblings such as `defaultAirflowRepository` + `defaultAirflowTag`.
    case parts(ImageParts)
    /// A reference inside a string that holds JSON or a list of images (katib's `custom_images`).
    case embedded(YAMLPath, original: String)
    /// A line (1-based) of a plain list.
    case line(Int)
    /// Written literally in a chart template: found, but no values overlay can change it.
    case template
}

/// The keys an image is spread over, with what the source had, so the overlay keeps the same shape.
struct ImageParts: Sendable, Hashable {
    /// The mapping that holds the keys.
    var map: YAMLPath
    /// `registry` (or `fooRegistry`) when the source has the key, even empty.
    var registryKey: String?
    /// `repository`, `name` or `fooRepository`.
    var repositoryKey: String
    /// The tag key when the source has it.
    var tagKey: String?
    /// The key a tag is written to when the source has none: `tag` or `fooTag`.
    var newTagKey: String
    /// The digest key when the source has it.
    var digestKey: String?
    /// The key a digest is written to when the source has none: `digest` or `fooDigest`.
    var newDigestKey: String
    /// The global registry key that supplied the host (`global.imageRegistry`), from the values root.
    var global: GlobalRegistry?

    /// True when the name comes from `repository` (the Bitnami convention, which a global registry applies to).
    var takesGlobalRegistry: Bool { self.repositoryKey == "repository" }
}

/// A global registry setting (`global.imageRegistry`, `global.image.registry`) and what it held.
struct GlobalRegistry: Sendable, Hashable {
    var path: YAMLPath
    var value: String
}

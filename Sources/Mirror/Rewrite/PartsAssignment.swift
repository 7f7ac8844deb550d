import OCI

/// The keys to set so that an image written in parts (`{registry, repository, tag, digest}`, `{name, tag}`,
/// `fooRepository` + `fooTag`) names `target`, keeping the keys the source used.
enum PartsAssignment {
    /// - Parameters:
    ///   - viaGlobal: the overlay sets the global registry, which this image's chart prefixes to `repository`.
    static func assignments(_ parts: ImageParts, target: Reference, viaGlobal: Bool) -> [(key: String, value: String)] {
        var keys: [(key: String, value: String)] = []
        if viaGlobal {
            keys.append((parts.repositoryKey, target.repository))
        } else if let registryKey = parts.registryKey {
            keys.append((registryKey, target.registry))
            keys.append((parts.repositoryKey, target.repository))
        } else {
            keys.append((parts.repositoryKey, target.name))
        }
        let tagKey = parts.tagKey ?? parts.newTagKey
        switch (target.tag, target.digest) {
        case (let tag?, let digest?):
            if let digestKey = parts.digestKey {
                keys.append((tagKey, tag))
                keys.append((digestKey, digest.description))
            } else {
                // Charts without a digest key render `repository:tag`; `tag@digest` pins the image there too.
                keys.append((tagKey, "\(tag)@\(digest)"))
            }
        case (let tag?, nil):
            keys.append((tagKey, tag))
        case (nil, let digest?):
            keys.append((parts.digestKey ?? parts.newDigestKey, digest.description))
        case (nil, nil):
            break
        }
        return keys
    }
}

import OCI

/// Which keys name images, and which strings merely look like images.
///
/// A key decides, not the value: `qwen2.5:3b` and `ollama/qwen2.5:3b` are valid references by the grammar,
/// but under `model:` they are model names. Only keys named like images are read as images; a string that
/// looks like a registry image under any other key is a doubt (reported by `--strict`), never an image.
enum ImageKeys {
    /// `image`, `mcImage`, `initImage`, `executor-image`, `oci-image`, `sidecar_image`.
    static func namesImage(_ key: String) -> Bool {
        if key.lowercased() == "image" || key.hasSuffix("Image") { return true }
        let lower = key.lowercased()
        return lower.hasSuffix("_image") || lower.hasSuffix("-image") || lower.hasSuffix(".image")
    }

    /// `images`, `customImages`, `custom_images`, `jupyter-images`: a collection of images.
    static func namesImages(_ key: String) -> Bool {
        if key.lowercased() == "images" || key.hasSuffix("Images") { return true }
        let lower = key.lowercased()
        return lower.hasSuffix("_images") || lower.hasSuffix("-images") || lower.hasSuffix(".images")
    }

    /// Environment variables that carry images by operator convention: `SIDECAR_IMAGE`, `RELATED_IMAGE_FOO`.
    static func envNamesImage(_ name: String) -> Bool {
        let upper = name.uppercased()
        return upper.hasSuffix("_IMAGE") || upper == "IMAGE" || upper.hasPrefix("RELATED_IMAGE_")
    }

    /// Splits `prefixRepository` into `prefix`, for pairs such as `defaultAirflowRepository` + `defaultAirflowTag`.
    static func repositoryPrefix(of key: String) -> String? {
        guard key.count > "Repository".count, key.hasSuffix("Repository") else { return nil }
        return String(key.dropLast("Repository".count))
    }

    /// A string that would be read as a registry image if its key named one: a host with a `.` or `:`,
    /// a path, and a tag or digest, with no spaces or URL scheme (`quay.io/x/agent:2.1`). Hub short names
    /// (`ollama/qwen2.5:3b`) are not: far too many model and plugin names look like them.
    static func looksLikeRegistryImage(_ text: String) -> Bool {
        guard !text.contains("://"), !text.contains(where: \.isWhitespace), let slash = text.firstIndex(of: "/") else {
            return false
        }
        let host = text[..<slash]
        guard host.contains(".") || host.contains(":") || host == "localhost" else { return false }
        let last = text[text.index(after: text.lastIndex(of: "/")!)...]
        guard last.contains(":") || text.contains("@") else { return false }
        return (try? Reference(parsing: text)) != nil
    }
}

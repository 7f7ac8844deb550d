extension Platform {
    /// Whether this platform (an index entry's) satisfies `wanted` (the user's `--platform`).
    ///
    /// OS and architecture must be equal after containerd's normalisation. A `wanted` without a variant
    /// accepts any variant; with one, variants are compared normalised, so `arm64/v8` equals `arm64` and
    /// `arm` equals `arm/v7`. A `wanted` OS version must match exactly (Windows images).
    public func matches(_ wanted: Platform) -> Bool {
        let have = self.normalized
        let want = wanted.normalized
        guard have.os == want.os, have.architecture == want.architecture else { return false }
        if let osVersion = wanted.osVersion, !osVersion.isEmpty, self.osVersion != osVersion {
            return false
        }
        guard let variant = wanted.variant, !variant.isEmpty else { return true }
        return have.variant == want.variant
    }

    /// This platform as containerd normalises it (`platforms.Normalize`): lowercase, aliases mapped, and
    /// default variants made explicit (`arm` → `arm/v7`) or dropped (`arm64/v8` → `arm64`, `amd64/v1` → `amd64`).
    public var normalized: Platform {
        var platform = self
        platform.os = Self.normalizedOS(self.os.lowercased())
        let (architecture, impliedVariant) = Self.normalizedArchitecture(self.architecture.lowercased())
        platform.architecture = architecture
        let variant = self.variant.map { $0.lowercased() }.flatMap { $0.isEmpty ? nil : $0 } ?? impliedVariant
        platform.variant = Self.normalizedVariant(variant, architecture: architecture)
        return platform
    }

    static func normalizedOS(_ os: String) -> String {
        os == "macos" ? "darwin" : os
    }

    /// Maps architecture aliases; some (`armhf`, `armel`) also imply a variant.
    static func normalizedArchitecture(_ architecture: String) -> (String, variant: String?) {
        switch architecture {
        case "i386": ("386", nil)
        case "x86_64", "x86-64": ("amd64", nil)
        case "aarch64": ("arm64", nil)
        case "armhf": ("arm", "v7")
        case "armel": ("arm", "v6")
        default: (architecture, nil)
        }
    }

    /// containerd's `normalizeArch` variant rules; nil means "the architecture's baseline".
    static func normalizedVariant(_ variant: String?, architecture: String) -> String? {
        switch (architecture, variant) {
        case ("386", _): nil
        case ("amd64", "v1"): nil
        case ("arm64", "8"), ("arm64", "v8"), ("arm64", "v8.0"): nil
        case ("arm64", "9"), ("arm64", "9.0"), ("arm64", "v9.0"): "v9"
        case ("arm", nil), ("arm", "7"): "v7"
        case ("arm", "5"), ("arm", "6"), ("arm", "8"): "v" + variant!
        default: variant
        }
    }
}

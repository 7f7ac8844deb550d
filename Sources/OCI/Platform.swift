/// The OS and CPU an image runs on, as in an index entry's `platform` object.
public struct Platform: Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    public init(
        os: String,
        architecture: String,
        variant: String? = nil,
        osVersion: String? = nil,
        osFeatures: [String]? = nil
    ) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
        self.osVersion = osVersion
        self.osFeatures = osFeatures
    }

    /// Parses `os/arch[/variant]` (`linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`).
    ///
    /// Lowercases, and maps common aliases as containerd does (`aarch64` → `arm64`, `x86_64` → `amd64`,
    /// `armhf` → `arm/v7`); an explicit variant is kept as written, so `description` echoes the input.
    public init(parsing string: String) throws(OCIError) {
        let parts = string.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else {
            throw .invalidPlatform(string, "expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8")
        }
        for part in parts {
            guard !part.isEmpty else {
                throw .invalidPlatform(string, "a part is empty; expected OS/ARCH[/VARIANT], e.g. linux/amd64")
            }
            let isAllowed: (UInt8) -> Bool = { ASCII.isWord($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            guard part.utf8.allSatisfy(isAllowed) else {
                throw .invalidPlatform(string, "\(quoted(part)) may hold only letters, digits, '_', '-' and '.'")
            }
        }
        let os = Self.normalizedOS(parts[0].lowercased())
        let (architecture, impliedVariant) = Self.normalizedArchitecture(parts[1].lowercased())
        let variant = parts.count == 3 ? parts[2].lowercased() : impliedVariant
        self.init(os: os, architecture: architecture, variant: variant)
    }

    /// `os/arch[/variant]`, e.g. `linux/arm64/v8`.
    public var description: String {
        var text = "\(self.os)/\(self.architecture)"
        if let variant = self.variant, !variant.isEmpty {
            text += "/\(variant)"
        }
        return text
    }

    /// BuildKit's platform for attestation manifests (`unknown/unknown`): not an image anyone runs.
    public var isAttestation: Bool { self.os == "unknown" && self.architecture == "unknown" }

    public static let linuxAMD64 = Platform(os: "linux", architecture: "amd64")
    public static let linuxARM64 = Platform(os: "linux", architecture: "arm64")
}

extension Platform: Codable {
    private enum CodingKeys: String, CodingKey {
        case os
        case architecture
        case variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }
}

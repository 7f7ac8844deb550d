import OCI

/// `--platform`: keep the whole index (`all`, the default, so digest-pinned references keep working) or one child.
public enum PlatformChoice: Sendable, Hashable, CustomStringConvertible {
    case all
    case one(Platform)

    public init(parsing text: String) throws(MirrorError) {
        if text == "all" {
            self = .all
            return
        }
        do {
            self = .one(try Platform(parsing: text))
        } catch {
            throw MirrorError(.usage, "--platform \(text): \(error); use OS/ARCH[/VARIANT] or all")
        }
    }

    public var description: String {
        switch self {
        case .all: "all"
        case .one(let p): p.description
        }
    }
}

extension ImageIndex {
    /// The child for `wanted`, or an error listing the platforms there are (`source` names the image in it).
    func child(for wanted: Platform, of source: some CustomStringConvertible) throws(MirrorError) -> Descriptor {
        guard let child = self.select(wanted) else {
            let have = self.platforms.map(\.description).joined(separator: ", ")
            throw MirrorError(.failed, "\(source) has no image for \(wanted) (it has: \(have.isEmpty ? "none" : have)); pick one of those with --platform, or use --platform all")
        }
        return child
    }
}

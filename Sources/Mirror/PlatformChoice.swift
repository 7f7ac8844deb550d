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

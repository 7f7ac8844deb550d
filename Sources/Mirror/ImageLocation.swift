import OCI

/// Where an image is, in skopeo's transport spelling, so users' habits carry over:
/// `docker://HOST/REPO[:TAG|@DIGEST]`, `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REPO:TAG]`.
public enum ImageLocation: Sendable, Hashable, CustomStringConvertible {
    case registry(Reference)
    case layout(path: String, tag: String?)
    case ociArchive(path: String, tag: String?)
    case dockerArchive(path: String, reference: String?)

    /// Parses a transport-prefixed location; with `bareIsRegistry`, a plain reference means `docker://`.
    public init(parsing text: String, bareIsRegistry: Bool = false) throws(MirrorError) {
        func splitTag(_ rest: Substring) -> (String, String?) {
            // A tag follows the last colon, unless that colon belongs to the path.
            if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/") {
                let path = String(rest[..<colon]), tag = String(rest[rest.index(after: colon)...])
                return (path, tag.isEmpty ? nil : tag)
            }
            return (String(rest), nil)
        }
        if text.hasPrefix("docker://") {
            do {
                self = .registry(try Reference(parsing: String(text.dropFirst("docker://".count))))
            } catch {
                throw MirrorError(.usage, "\(error)")
            }
        } else if text.hasPrefix("oci:") {
            let (path, tag) = splitTag(text.dropFirst(4))
            guard !path.isEmpty else { throw MirrorError(.usage, "\"\(text)\": oci: needs a directory, as in oci:DIR[:TAG]") }
            self = .layout(path: path, tag: tag)
        } else if text.hasPrefix("oci-archive:") {
            // As skopeo: the file ends at the first colon, so the rest may be a full reference
            // (`oci-archive:b.tar:registry:5000/app:1.0`, the name a Ferry bundle lists its images under).
            let parts = text.dropFirst("oci-archive:".count).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0]), tag = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
            guard !path.isEmpty else { throw MirrorError(.usage, "\"\(text)\": oci-archive: needs a file, as in oci-archive:FILE[:TAG]") }
            self = .ociArchive(path: path, tag: tag)
        } else if text.hasPrefix("docker-archive:") {
            let rest = text.dropFirst("docker-archive:".count)
            let parts = rest.split(separator: ":", maxSplits: 1)
            guard let path = parts.first, !path.isEmpty else {
                throw MirrorError(.usage, "\"\(text)\": docker-archive: needs a file, as in docker-archive:FILE[:REPO:TAG]")
            }
            self = .dockerArchive(path: String(path), reference: parts.count > 1 ? String(parts[1]) : nil)
        } else if bareIsRegistry {
            do {
                self = .registry(try Reference(parsing: text))
            } catch {
                throw MirrorError(.usage, "\(error)")
            }
        } else if let colon = text.firstIndex(of: ":"), ["dir", "docker-daemon", "containers-storage", "sif", "ostree"].contains(String(text[..<colon])) {
            throw MirrorError(.usage, "\"\(text)\": skopeo's \(text[..<colon]): transport is not one Ferry reads or writes; use docker://REFERENCE, oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE")
        } else {
            throw MirrorError(.usage, "\"\(text)\" has no transport: write docker://REFERENCE, oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE")
        }
    }

    public var description: String {
        switch self {
        case .registry(let r): "docker://\(r)"
        case .layout(let p, let t): "oci:\(p)" + (t.map { ":" + $0 } ?? "")
        case .ociArchive(let p, let t): "oci-archive:\(p)" + (t.map { ":" + $0 } ?? "")
        case .dockerArchive(let p, let r): "docker-archive:\(p)" + (r.map { ":" + $0 } ?? "")
        }
    }
}

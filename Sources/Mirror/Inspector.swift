import OCI
import Registry
import Stores
import Transfer

/// `ferry inspect`: what an image is, without moving its layers.
public struct Inspection: Sendable, Encodable {
    public struct Layer: Sendable, Encodable {
        public var digest: String
        public var size: Int64
        public var mediaType: String
    }

    public var reference: String
    public var digest: String
    public var mediaType: String
    public var platforms: [String]
    /// For an index, the layers of the child chosen with `--platform` (or the first runnable one), and its platform.
    public var layers: [Layer]
    public var layersPlatform: String?
    public var config: String?
    public var raw: String
}

public struct Inspector: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    /// A registry image, or one in an `oci:` layout, an `oci-archive:` or a `docker-archive:` (a bundle on the far
    /// side, with no registry at hand).
    public func inspect(_ location: ImageLocation, platform: PlatformChoice, registry options: RegistryOptions) async throws -> Inspection {
        switch location {
        case .registry(let reference):
            let client = try RegistryClient(registry: reference.registry, engine: self.engine, options: options)
            let (raw, digest) = try await client.manifest(reference)
            return try await Self.describe(raw, digest: digest, name: reference.description, platform: platform) { child in
                try await client.manifest(reference.with(digest: child.digest)).0
            }
        default:
            let local = try await LocalImage.open(location)
            let name = local.name ?? Copier.unnamed
            // Read as needed, each checked against its digest: a Docker 25+ save holds the whole index but only
            // the platforms that were pulled.
            let top = try local.source.manifest(local.descriptor, of: name)
            return try await Self.describe(top.raw, digest: top.digest, name: local.name?.description ?? location.description, platform: platform) { child in
                try local.source.manifest(child, of: name).raw
            }
        }
    }

    /// The image `raw` is; for an index, the layers of the child `platform` names (the first runnable one by
    /// default), read with `manifest`.
    static func describe(
        _ raw: RawManifest, digest: Digest, name: String, platform: PlatformChoice, manifest: (Descriptor) async throws -> RawManifest
    ) async throws -> Inspection {
        func parse(_ raw: RawManifest) throws -> ManifestContent {
            do { return try raw.parse() } catch { throw MirrorError(.failed, "\(name): manifest: \(error)") }
        }
        var result = Inspection(reference: name, digest: digest.description, mediaType: raw.mediaType.rawValue, platforms: [], layers: [], layersPlatform: nil, config: nil, raw: String(decoding: raw.bytes, as: UTF8.self))
        var image: Manifest?
        switch try parse(raw) {
        case .image(let m):
            image = m
        case .index(let index):
            result.platforms = index.platforms.map(\.description)
            let child = if case .one(let wanted) = platform { try index.child(for: wanted, of: name) } else { index.manifests.first { !$0.isAttestation } }
            if let child {
                result.layersPlatform = child.platform?.description
                if case .image(let m) = try parse(try await manifest(child)) { image = m }
            }
        }
        if let image {
            result.config = image.config.digest.description
            result.layers = image.layers.map { Inspection.Layer(digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType.rawValue) }
        }
        return result
    }
}

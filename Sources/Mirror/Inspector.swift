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
                try await client.manifest(reference.with(digest: child)).0
            }
        default:
            let local = try await LocalImage.open(location)
            // Every manifest of the image, each checked against its digest as it is read.
            let plan = try local.source.plan(local.descriptor, source: local.name ?? Copier.unnamed, platform: .all)
            let manifests = Dictionary((plan.manifests + [plan.top]).map { ($0.digest, $0.raw) }, uniquingKeysWith: { a, _ in a })
            return try await Self.describe(plan.top.raw, digest: plan.top.digest, name: local.name?.description ?? location.description, platform: platform) { child in
                guard let raw = manifests[child] else { throw MirrorError(.failed, "\(location): manifest \(child) is not in it") }
                return raw
            }
        }
    }

    /// The image `raw` is; for an index, the layers of the child `platform` names (the first runnable one by
    /// default), read with `manifest`.
    static func describe(
        _ raw: RawManifest, digest: Digest, name: String, platform: PlatformChoice, manifest: (Digest) async throws -> RawManifest
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
                if case .image(let m) = try parse(try await manifest(child.digest)) { image = m }
            }
        }
        if let image {
            result.config = image.config.digest.description
            result.layers = image.layers.map { Inspection.Layer(digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType.rawValue) }
        }
        return result
    }
}

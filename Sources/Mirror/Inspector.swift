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

    public func inspect(_ location: ImageLocation, platform: PlatformChoice, registry options: RegistryOptions) async throws -> Inspection {
        guard case .registry(let reference) = location else {
            throw MirrorError(.unsupported, "inspect reads registries for now: write docker://HOST/REPO:TAG")
        }
        let client = try RegistryClient(registry: reference.registry, engine: self.engine, options: options)
        let (raw, digest) = try await client.manifest(reference)
        var result = Inspection(reference: reference.description, digest: digest.description, mediaType: raw.mediaType.rawValue, platforms: [], layers: [], layersPlatform: nil, config: nil, raw: String(decoding: raw.bytes, as: UTF8.self))
        var image: Manifest?
        switch try RegistrySource.parse(raw, reference) {
        case .image(let m):
            image = m
        case .index(let index):
            result.platforms = index.platforms.map(\.description)
            let child = if case .one(let wanted) = platform { try index.child(for: wanted, of: reference) } else { index.manifests.first { !$0.isAttestation } }
            if let child {
                result.layersPlatform = child.platform?.description
                let (childRaw, _) = try await client.manifest(reference.with(digest: child.digest))
                if case .image(let m) = try RegistrySource.parse(childRaw, reference) { image = m }
            }
        }
        if let image {
            result.config = image.config.digest.description
            result.layers = image.layers.map { Inspection.Layer(digest: $0.digest.description, size: $0.size, mediaType: $0.mediaType.rawValue) }
        }
        return result
    }
}

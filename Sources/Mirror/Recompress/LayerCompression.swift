import Codec
import OCI

/// `--dest-compress`: the compression layers are rewritten into on the way to the destination.
public enum LayerCompression: Sendable, Hashable, CustomStringConvertible {
    case gzip(level: Int)
    case zstd(level: Int)

    /// `gzip` or `zstd`, with an optional level (gzip 1–9, default 6; zstd 1–19, default 3, as the tools').
    public init(parsing text: String, level: Int? = nil) throws(MirrorError) {
        switch text.lowercased() {
        case "gzip":
            let level = level ?? 6
            guard (1...9).contains(level) else { throw MirrorError(.usage, "gzip levels are 1 to 9, not \(level)") }
            self = .gzip(level: level)
        case "zstd":
            let level = level ?? 3
            guard (1...19).contains(level) else { throw MirrorError(.usage, "zstd levels are 1 to 19, not \(level)") }
            self = .zstd(level: level)
        default:
            throw MirrorError(.usage, "unknown compression \"\(text)\": use gzip or zstd")
        }
    }

    public var description: String {
        switch self {
        case .gzip(let level): "gzip -\(level)"
        case .zstd(let level): "zstd -\(level)"
        }
    }

    var format: CompressionFormat {
        switch self {
        case .gzip: .gzip
        case .zstd: .zstd
        }
    }

    /// - Parameter zstdWorkers: libzstd's workers for one stream (nil: one per core; 0: compress on the calling stage).
    func encoding(zstdWorkers: Int? = nil) -> Pipeline.Encoding {
        switch self {
        case .gzip(let level): .gzip(GzipOptions(level: level))
        case .zstd(let level): .zstd(ZstdOptions(level: level, workers: zstdWorkers))
        }
    }

    /// Docker's v2 schema 2 has no zstd layer type that runtimes agree on, so a zstd copy of a Docker image becomes
    /// an OCI image (as skopeo does); gzip keeps the manifest's family.
    var needsOCI: Bool { self.format == .zstd }

    /// What a layer media type says about its bytes: a tar, compressed or not, or nil for anything Ferry leaves
    /// alone (non-distributable layers, which registries may not hold; artifacts' own types, such as Helm charts).
    enum Stored: Equatable {
        case tar
        case compressed(CompressionFormat)
    }

    static func stored(_ type: MediaType) -> Stored? {
        switch type {
        case .ociLayer, .dockerLayer: .tar
        case .ociLayerGzip, .dockerLayerGzip: .compressed(.gzip)
        case .ociLayerZstd, .dockerLayerZstd: .compressed(.zstd)
        default: nil
        }
    }

    /// True when `type` is a layer this compression rewrites.
    func rewrites(_ type: MediaType) -> Bool {
        guard let stored = Self.stored(type) else { return false }
        return stored != .compressed(self.format)
    }

    /// The media type of a layer in this compression, in the OCI or the Docker family.
    func layerType(oci: Bool) -> MediaType {
        switch (self.format, oci) {
        case (.gzip, true): .ociLayerGzip
        case (.gzip, false): .dockerLayerGzip
        case (.zstd, _): .ociLayerZstd
        }
    }

    /// A Docker media type's OCI counterpart, for manifests converted to OCI.
    static func ociType(_ type: MediaType) -> MediaType {
        switch type {
        case .dockerManifest: .ociManifest
        case .dockerManifestList: .ociIndex
        case .dockerConfig: .ociConfig
        case .dockerLayer: .ociLayer
        case .dockerLayerGzip: .ociLayerGzip
        case .dockerLayerZstd: .ociLayerZstd
        case .dockerForeignLayer: .ociLayerNondistributableGzip
        default: type
        }
    }
}

import Codec
import Foundation

/// Streams one synthetic layer to disk: content → tar framing → gzip → blob file, hashing the tar (DiffID) and
/// the gzip stream (digest) on the way. Memory stays at a few MiB whatever the layer's size.
enum LayerWriter {
    /// Content is generated and compressed in pieces of this size.
    static let pieceSize = 1 << 20

    struct Result {
        let digest: String
        let size: Int
        let diffID: String
        let uncompressedSize: Int
    }

    static func write(
        fileName: String,
        spec: LayerSpec,
        seed: UInt64,
        into directory: URL
    ) throws -> Result {
        var file = try BlobFile(in: directory)
        do {
            var generator: any ContentGenerator =
                spec.compressible ? LogLineContent(seed: seed) : RandomContent(seed: seed)
            let encoder = GzipEncoder(level: spec.effectiveGzipLevel)
            var tarHash = SHA256()
            var tarSize = 0
            var compressed: [UInt8] = []
            compressed.reserveCapacity(2 * self.pieceSize)

            func emit(_ bytes: UnsafeRawBufferPointer) throws {
                tarHash.update(bytes)
                tarSize += bytes.count
                encoder.compress(bytes, into: &compressed)
                if compressed.count >= self.pieceSize {
                    try file.write(compressed)
                    compressed.removeAll(keepingCapacity: true)
                }
            }

            try TarHeader.regularFile(name: fileName, size: spec.size).withUnsafeBytes { try emit($0) }
            let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: self.pieceSize, alignment: 16)
            defer { piece.deallocate() }
            var remaining = spec.size
            while remaining > 0 {
                let count = min(remaining, self.pieceSize)
                let slice = UnsafeMutableRawBufferPointer(rebasing: piece[0..<count])
                generator.fill(slice)
                try emit(UnsafeRawBufferPointer(slice))
                remaining -= count
            }
            let padding = [UInt8](repeating: 0, count: TarHeader.padding(spec.size))
            try padding.withUnsafeBytes { try emit($0) }
            try TarHeader.trailer.withUnsafeBytes { try emit($0) }
            encoder.finish(into: &compressed)
            try file.write(compressed)

            let digest = try file.commit()
            return Result(
                digest: digest, size: file.size, diffID: "sha256:" + tarHash.hexDigest(), uncompressedSize: tarSize)
        } catch {
            file.discard()
            throw error
        }
    }
}

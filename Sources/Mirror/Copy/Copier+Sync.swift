import OCI
import Registry
import Transfer

extension Copier {
    /// `ferry copy docker://A docker://B`: one image registry to registry, its digest kept; nothing moves when B
    /// already has it.
    func registryToRegistry(_ source: Reference, to target: Reference, options: CopyOptions) async throws -> CopyResult {
        if let compression = options.recompress {
            return try await self.registryToRegistryRecompressed(source, to: target, compression: compression, options: options)
        }
        let push = options.pushOptions
        let sync = Syncer.Options(platform: options.platform, push: push, download: options.download)
        let result = try await Syncer(engine: self.engine).sync([(source, target)], options: sync)
        let image = result.images[0]
        return CopyResult(
            source: "docker://\(source)", destination: "docker://\(target)", digest: image.digest.description,
            mediaType: image.mediaType.rawValue, blobsFetched: result.push.blobsUploaded, blobsSkipped: result.push.blobsSkipped + result.push.blobsMounted,
            bytesFetched: result.push.bytesUploaded)
    }
}

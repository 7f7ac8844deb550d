import OCI
import Registry
import Transfer

extension Copier {
    /// `ferry copy oci:DIR[:TAG] docker://REF`: one image of a layout pushed with its digests intact.
    func layoutToRegistry(path: String, tag: String?, to reference: Reference, options: CopyOptions) async throws -> CopyResult {
        if let compression = options.recompress {
            return try await self.layoutToRegistryRecompressed(path: path, tag: tag, to: reference, compression: compression, options: options)
        }
        let source = try ArchiveSource(opening: "oci:" + path)
        let descriptor = try source.image(tag: tag)
        let plan = try source.plan(descriptor, source: reference, platform: options.platform)
        let push = options.pushOptions
        let result = try await Pusher(engine: self.engine).push([PushItem(plan: plan, target: reference)], from: source, options: push)
        return CopyResult(
            source: "oci:\(path)" + (tag.map { ":" + $0 } ?? ""),
            destination: "docker://\(reference)",
            digest: plan.top.digest.description,
            mediaType: plan.top.raw.mediaType.rawValue,
            blobsFetched: result.blobsUploaded,
            blobsSkipped: result.blobsSkipped + result.blobsMounted,
            bytesFetched: result.bytesUploaded
        )
    }
}

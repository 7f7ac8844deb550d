import Foundation
import OCI
import Registry
import Stores
import Transfer

/// `ferry copy`: one image from any supported source to any supported destination.
public struct Copier: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    public func copy(from source: ImageLocation, to destination: ImageLocation, options: CopyOptions) async throws -> CopyResult {
        try Self.checkRecompression(from: source, to: destination, options: options)
        // source          destination                       how
        // docker://        docker://                         registryToRegistry (Copier+Sync)
        // docker://        oci:DIR                           registryToLayout
        // oci:DIR          docker://                         layoutToRegistry (Copier+Push)
        // *-archive:FILE   docker://                         localToRegistry (Copier+Archive)
        // *-archive:FILE   oci:DIR                           localToLayout
        // oci:DIR          oci:DIR                           localToLayout
        // any              oci-archive: / docker-archive:    toArchive
        switch (source, destination) {
        case (.registry(let source), .registry(let target)):
            return try await self.registryToRegistry(source, to: target, options: options)
        case (.registry(let reference), .layout(let path, let tag)):
            return try await self.registryToLayout(reference, path: path, tag: tag, options: options)
        case (.layout(let path, let tag), .registry(let reference)):
            return try await self.layoutToRegistry(path: path, tag: tag, to: reference, options: options)
        case (.ociArchive, .registry(let reference)), (.dockerArchive, .registry(let reference)):
            return try await self.localToRegistry(source, to: reference, options: options)
        case (.layout, .layout(let path, let tag)), (.ociArchive, .layout(let path, let tag)), (.dockerArchive, .layout(let path, let tag)):
            return try await self.localToLayout(source, path: path, tag: tag, options: options)
        case (_, .ociArchive), (_, .dockerArchive):
            return try await self.toArchive(source, destination, options: options)
        }
    }

    func registryToLayout(_ reference: Reference, path: String, tag: String?, options: CopyOptions) async throws -> CopyResult {
        if let compression = options.recompress {
            return try await self.registryToLayoutRecompressed(reference, path: path, tag: tag, compression: compression, options: options)
        }
        let client = try RegistryClient(registry: reference.registry, engine: self.engine, options: options.registry)
        let plan = try await RegistrySource(client: client).plan(reference, platform: options.platform)
        options.progress?(ProgressEvent(id: reference.description, kind: .planned(total: plan.totalBlobBytes)))
        let layout = try OCILayout(creatingAt: path)

        let fetcher = LayoutBlobFetcher(client: client, repository: reference.repository, layout: layout, progress: options.progress, download: options.download)
        let stats = try await fetcher.fetchAll(plan.blobs, jobs: options.jobs)

        try self.finishLayout(layout, plan: plan, name: reference, tag: tag, options: options)
        return CopyResult(
            source: "docker://\(reference)",
            destination: "oci:\(path)" + (tag.map { ":" + $0 } ?? ""),
            digest: plan.top.digest.description,
            mediaType: plan.top.raw.mediaType.rawValue,
            blobsFetched: stats.fetched,
            blobsSkipped: stats.skipped,
            bytesFetched: stats.bytes
        )
    }
}

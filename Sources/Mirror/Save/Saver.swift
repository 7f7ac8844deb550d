import Foundation
import Glibc
import OCI
import Registry
import Stores
import Transfer

/// `ferry save`: images from registries into one bundle that is an OCI image layout and a `docker load` archive.
public struct Saver: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    public struct Result: Sendable {
        public var output: String
        public var images: [(reference: String, digest: String)]
        public var blobsFetched: Int
        public var blobsSkipped: Int
        public var bytesFetched: Int64
        public var bundleSize: Int64
        /// For a delta: blobs left out because the base carries them, and their bytes.
        public var omittedBlobs = 0
        public var omittedBytes: Int64 = 0
    }

    /// - Parameter compressLevel: for `.tar.zst` / `.tar.gz` outputs, the zstd or gzip level (default 3 and 1).
    public func save(_ references: [Reference], to output: String, options: CopyOptions, since base: DeltaBase? = nil, compressLevel: Int? = nil) async throws -> Result {
        let compression = Self.compression(of: output)
        guard output.hasSuffix(".tar") || compression != nil else {
            throw MirrorError(.usage, "\(output): name the bundle BUNDLE.tar, BUNDLE.tar.zst or BUNDLE.tar.gz")
        }
        guard !references.isEmpty else { throw MirrorError(.usage, "no images to save: name them as arguments or with -f LIST") }
        if let compressLevel { try Self.checkLevel(compressLevel, for: compression, output: output) }
        let clients = RegistryClients(engine: self.engine, options: options.registry)
        let images = try await Self.resolve(references, clients: clients, platform: options.platform, jobs: options.jobs)
        let contents = try BundleContents(images: images, platform: options.platform, base: base)
        options.progress?(ProgressEvent(id: output, kind: .planned(total: contents.blobs.reduce(0) { $0 + $1.size })))
        // Which repository to fetch each blob from: the first image that has it.
        var sources: [Digest: (RegistryClient, String)] = [:]
        for image in images {
            let client = try await clients.client(for: image.source.registry)
            for blob in image.blobs where sources[blob.digest] == nil { sources[blob.digest] = (client, image.source.repository) }
        }
        if let compression {
            let done = try await self.saveCompressed(
                contents.plan, sources: sources, to: output, format: compression, level: compressLevel, options: options)
            try self.finishSave(images: images, contents: contents, output: output, base: base, options: options)
            return Result(
                output: output, images: images.map { ($0.source.description, $0.top.digest.description) },
                blobsFetched: done.fetched, blobsSkipped: done.skipped, bytesFetched: done.bytes, bundleSize: done.size,
                omittedBlobs: contents.omitted.count, omittedBytes: contents.omitted.reduce(0) { $0 + $1.size })
        }
        let state = BundleState(output: output)
        let filled = try await state.fill(
            contents.plan, jobs: options.jobs, progress: options.progress, order: { $0.sorted { $0.header.size > $1.header.size } }
        ) { [sources] member in
            guard let digest = member.digest, let (client, repository) = sources[digest] else {
                throw MirrorError(.failed, "\(member.header.name): no image of the bundle names this blob")
            }
            return try await BlobFetch.member(member, client: client, repository: repository, state: state, plan: contents.plan, options: options)
        }
        try self.finishSave(images: images, contents: contents, output: output, base: base, options: options)
        return Result(
            output: output, images: images.map { ($0.source.description, $0.top.digest.description) },
            blobsFetched: filled.written, blobsSkipped: filled.skipped, bytesFetched: filled.bytes, bundleSize: contents.plan.archiveSize,
            omittedBlobs: contents.omitted.count, omittedBytes: contents.omitted.reduce(0) { $0 + $1.size })
    }

    /// The sidecar beside a bundle now in place, and the images announced as finished.
    private func finishSave(images: [ImagePlan], contents: BundleContents, output: String, base: DeltaBase?, options: CopyOptions) throws {
        var sidecar = Sidecar(images: images, blobs: contents.blobs)
        sidecar.deltaBase = base?.fingerprint
        try sidecar.write(to: output + ".ferry.json")
        for image in images {
            options.progress?(ProgressEvent(id: image.source.description, kind: .imageFinished(reference: image.source.description)))
        }
    }

    /// Resolves every reference to its plan, several at once.
    static func resolve(_ references: [Reference], clients: RegistryClients, platform: PlatformChoice, jobs: Int) async throws -> [ImagePlan] {
        try await withThrowingTaskGroup(of: (Int, ImagePlan).self) { group in
            for (i, reference) in references.enumerated() {
                group.addTask {
                    let client = try await clients.client(for: reference.registry)
                    return (i, try await RegistrySource(client: client).plan(reference, platform: platform))
                }
            }
            var plans = [ImagePlan?](repeating: nil, count: references.count)
            for try await (i, plan) in group { plans[i] = plan }
            return plans.compactMap { $0 }
        }
    }
}

import Foundation
import Glibc
import OCI
import Registry
import Stores
import Transfer

/// `ferry copy --dest-compress gzip|zstd`: the image's layers recoded on the way (see `LayerRecoder`), its
/// manifests rewritten to point at them; configs, and so DiffIDs, stay as they are. The copy's digest is new.
extension Copier {
    func registryToLayoutRecompressed(_ reference: Reference, path: String, tag: String?, compression: LayerCompression, options: CopyOptions) async throws -> CopyResult {
        let clients = RegistryClients(engine: self.engine, options: options.registry)
        let client = try await clients.client(for: reference.registry)
        let plan = try await RegistrySource(client: client).plan(reference, platform: options.platform)
        options.progress?(ProgressEvent(id: reference.description, kind: .planned(total: plan.totalBlobBytes)))
        let layout = try OCILayout(creatingAt: path)
        // Blobs an earlier run left unsynced before a reboot are re-hashed before anything counts as present.
        layout.recheckUnsynced()
        var spool = RegistryBlobSource(clients: clients, spool: RegistryBlobSource.defaultSpool(), download: options.download)
        spool.durability = .transient  // recoded once and deleted
        // Recoded layers wait inside the layout's own state, so moving them into blobs/ is a rename.
        var recoder = LayerRecoder(compression: compression, source: spool, directory: layout.stateDirectory + "/recoded", progress: options.progress)
        recoder.syncs = false  // listed as unsynced with the fetched blobs below
        let outcome = try await recoder.recode(plan, jobs: Self.recodeJobs(options)) { digest, size in
            layout.hasBlob(Descriptor(mediaType: .ociLayer, digest: digest, size: size))
        }
        // Configs and layers already in the wanted compression are fetched as a plain copy fetches them.
        let rest = outcome.plan.blobs.filter { outcome.files[$0.digest] == nil }
        let fetcher = LayoutBlobFetcher(client: client, repository: reference.repository, layout: layout, progress: options.progress, download: options.download)
        let stats = try await fetcher.fetchAll(rest, jobs: options.jobs, alsoLanding: Array(outcome.files.keys))
        for (digest, file) in outcome.files {
            try layout.commit(temporary: file, as: digest)
        }
        try self.finishLayout(layout, plan: outcome.plan, name: reference, tag: tag, options: options)
        var result = CopyResult(
            source: "docker://\(reference)", destination: ImageLocation.layout(path: path, tag: tag).description,
            digest: outcome.plan.top.digest.description, mediaType: outcome.plan.top.raw.mediaType.rawValue,
            blobsFetched: stats.fetched + outcome.files.count, blobsSkipped: stats.skipped, bytesFetched: stats.bytes + outcome.bytesBefore)
        result.recoded = CopyResult.Recoded(compression: compression, layers: outcome.layers, bytesBefore: outcome.bytesBefore, bytesAfter: outcome.bytesAfter)
        return result
    }

    func registryToRegistryRecompressed(_ source: Reference, to target: Reference, compression: LayerCompression, options: CopyOptions) async throws -> CopyResult {
        let clients = RegistryClients(engine: self.engine, options: options.registry)
        let plan = try await RegistrySource(client: try await clients.client(for: source.registry)).plan(source, platform: options.platform)
        options.progress?(ProgressEvent(id: source.description, kind: .planned(total: plan.totalBlobBytes)))
        var spool = RegistryBlobSource(clients: clients, spool: RegistryBlobSource.defaultSpool(), download: options.download)
        spool.durability = .transient  // recoded once and deleted
        return try await self.pushRecompressed(
            plan, from: spool, described: "docker://\(source)", to: target, compression: compression, options: options)
    }

    func layoutToRegistryRecompressed(path: String, tag: String?, to target: Reference, compression: LayerCompression, options: CopyOptions) async throws -> CopyResult {
        let source = try ArchiveSource(opening: "oci:" + path)
        let plan = try source.plan(try source.image(tag: tag), source: target, platform: options.platform)
        options.progress?(ProgressEvent(id: target.description, kind: .planned(total: plan.totalBlobBytes)))
        return try await self.pushRecompressed(
            plan, from: source, described: ImageLocation.layout(path: path, tag: tag).description, to: target, compression: compression, options: options)
    }

    /// Recodes into the spool, pushes the rewritten image, and drops the recoded files, pushed or not (a rerun recodes
    /// again; what the registry already took is skipped by digest).
    private func pushRecompressed(
        _ plan: ImagePlan, from source: any PushSource, described: String, to target: Reference, compression: LayerCompression, options: CopyOptions
    ) async throws -> CopyResult {
        // A directory of this run's own: its files are removed once pushed, and no other run may be pushing them.
        let directory = RegistryBlobSource.defaultSpool() + "/recoded-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        var recoder = LayerRecoder(compression: compression, source: source, directory: directory, progress: options.progress)
        recoder.syncs = false  // pushed once and removed; the registry checks each digest
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try await recoder.recode(plan, jobs: Self.recodeJobs(options))
        let push = options.pushOptions
        let pushed = try await Pusher(engine: self.engine).push(
            [PushItem(plan: outcome.plan, target: target)], from: RecodedSource(files: outcome.files, fallback: source), options: push)
        var result = CopyResult(
            source: described, destination: "docker://\(target)", digest: outcome.plan.top.digest.description,
            mediaType: outcome.plan.top.raw.mediaType.rawValue, blobsFetched: pushed.blobsUploaded,
            blobsSkipped: pushed.blobsSkipped + pushed.blobsMounted, bytesFetched: pushed.bytesUploaded)
        result.recoded = CopyResult.Recoded(compression: compression, layers: outcome.layers, bytesBefore: outcome.bytesBefore, bytesAfter: outcome.bytesAfter)
        return result
    }

    /// `--dest-compress` applies where Ferry writes blobs of its own: a layout or a registry, from a registry or a
    /// layout.
    static func checkRecompression(from source: ImageLocation, to destination: ImageLocation, options: CopyOptions) throws {
        guard let compression = options.recompress else { return }
        switch (source, destination) {
        case (.registry, .layout), (.registry, .registry), (.layout, .registry): return
        default:
            throw MirrorError(.unsupported, "--dest-compress \(compression) is supported from docker:// to oci: or docker://, and from oci: to docker://; not for \(source) to \(destination)")
        }
    }

    /// Each recoding keeps about a core busy: one per core. More contend for libzstd's shared worker pool (measured
    /// on 2 cores, 8 layers: three at once spent 8–10 s of CPU, two at once 7.5 s, for the same work).
    static func recodeJobs(_ options: CopyOptions) -> Int {
        min(options.jobs, max(2, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Writes an image's manifests (children first) and names it in `index.json`: by `tag`, else its full name, and
    /// by its full name for containerd; an image without a name (from an untagged archive entry) is listed unnamed.
    func finishLayout(_ layout: OCILayout, plan: ImagePlan, name: Reference?, tag: String?, options: CopyOptions) throws {
        for manifest in plan.manifests {
            try layout.writeBlob(manifest.raw.bytes, digest: manifest.digest)
        }
        if !plan.manifests.contains(where: { $0.digest == plan.top.digest }) {
            try layout.writeBlob(plan.top.raw.bytes, digest: plan.top.digest)
        }
        var descriptor = plan.top.descriptor
        var annotations: [String: String] = [:]
        annotations[AnnotationKey.refName] = tag ?? name?.description
        annotations[AnnotationKey.containerdImageName] = name?.description
        descriptor.annotations = annotations.isEmpty ? nil : annotations
        try layout.addToIndex(descriptor)
        let id = (name ?? plan.source).description
        options.progress?(ProgressEvent(id: id, kind: .imageFinished(reference: id)))
    }
}

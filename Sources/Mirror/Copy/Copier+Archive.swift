import Codec
import Foundation
import Glibc
import OCI
import Registry
import Stores
import Transfer

// The copy cases that read or write files: oci:DIR, oci-archive:FILE, docker-archive:FILE as source, and the two
// archive forms as destination. Local sources are read in place (`LocalImage`); archive destinations are planned
// tars filled in place (`SingleImageArchive`, `BundleState`), so an interrupted copy resumes like a save.

extension Copier {
    /// `ferry copy oci-archive:|docker-archive:FILE docker://REF`: pushed with the source's digests (a docker
    /// archive's uncompressed layers compressed on the way, see `DockerArchive`).
    func localToRegistry(_ source: ImageLocation, to reference: Reference, options: CopyOptions) async throws -> CopyResult {
        let local = try await LocalImage.open(source)
        let plan = try local.source.plan(local.descriptor, source: reference, platform: options.platform)
        let push = options.pushOptions
        let result = try await Pusher(engine: self.engine).push([PushItem(plan: plan, target: reference)], from: local.blobs, options: push)
        return CopyResult(
            source: source.description, destination: "docker://\(reference)", digest: plan.top.digest.description,
            mediaType: plan.top.raw.mediaType.rawValue, blobsFetched: result.blobsUploaded,
            blobsSkipped: result.blobsSkipped + result.blobsMounted, bytesFetched: result.bytesUploaded)
    }

    /// `ferry copy oci-archive:|docker-archive:|oci:… oci:DIR[:TAG]`: every blob copied from the source's regions
    /// and checked against its digest before it lands.
    func localToLayout(_ source: ImageLocation, path: String, tag: String?, options: CopyOptions) async throws -> CopyResult {
        let local = try await LocalImage.open(source)
        let name = local.name ?? Self.unnamed
        let plan = try local.source.plan(local.descriptor, source: name, platform: options.platform)
        options.progress?(ProgressEvent(id: name.description, kind: .planned(total: plan.totalBlobBytes)))
        let layout = try OCILayout(creatingAt: path)
        let blobs = local.blobs
        let missing = blobs.orderedForLending(plan.blobs.filter { !layout.hasBlob($0) }, window: options.jobs) { $0.digest }
        for blob in plan.blobs where layout.hasBlob(blob) {
            options.progress?(ProgressEvent(id: blob.digest.description, kind: .skipped(total: blob.size)))
        }
        // Copied blobs land unsynced, as fetched ones do (see `OCILayout.beginUnsynced`).
        try layout.beginUnsynced(missing.map(\.digest))
        var bytes: Int64 = 0
        try await forEachConcurrently(missing, jobs: options.jobs) { blob in
            try await blobs.lend(blob, of: name) { region in
                let temp = layout.temporaryPath(blob.digest)
                options.progress?(ProgressEvent(id: blob.digest.description, kind: .started(total: blob.size)))
                try await Self.copyVerified(region, blob, to: FileSink(path: temp), cleanUp: temp)
                try layout.commit(temporary: temp, as: blob.digest)
                options.progress?(ProgressEvent(id: blob.digest.description, kind: .bytes(blob.size)))
                options.progress?(ProgressEvent(id: blob.digest.description, kind: .finished))
                return blob.size
            }
        } collect: { bytes += $0 }
        try self.finishLayout(layout, plan: plan, name: local.name, tag: tag, options: options)
        return CopyResult(
            source: source.description, destination: ImageLocation.layout(path: path, tag: tag).description,
            digest: plan.top.digest.description, mediaType: plan.top.raw.mediaType.rawValue,
            blobsFetched: missing.count, blobsSkipped: plan.blobs.count - missing.count, bytesFetched: bytes)
    }

    /// `ferry copy SRC oci-archive:FILE[:TAG]` or `docker-archive:FILE[:REPO:TAG]`: one image into a planned tar,
    /// downloaded (segmented, journaled, resumable) or copied from a local source straight into its members.
    func toArchive(_ source: ImageLocation, _ destination: ImageLocation, options: CopyOptions) async throws -> CopyResult {
        let plan: ImagePlan
        let name: Reference?
        let fill: @Sendable (BundlePlan.Member, BundleState, BundlePlan) async throws -> Int64
        // A local source lends its blobs best in its own order (a foreign compressed archive front to back).
        let lender: (any PushSource)?
        switch source {
        case .registry(let reference):
            let client = try RegistryClient(registry: reference.registry, engine: self.engine, options: options.registry)
            plan = try await RegistrySource(client: client).plan(reference, platform: options.platform)
            name = reference
            lender = nil
            fill = { member, state, bundle in try await BlobFetch.member(member, client: client, repository: reference.repository, state: state, plan: bundle, options: options) }
        default:
            let local = try await LocalImage.open(source)
            let image = local.name ?? Self.unnamed
            plan = try local.source.plan(local.descriptor, source: image, platform: options.platform)
            name = local.name
            let blobs = local.blobs
            lender = blobs
            fill = { member, state, _ in
                let blob = Descriptor(mediaType: .ociLayer, digest: member.digest!, size: member.header.size)
                return try await blobs.lend(blob, of: image) { region in
                    let fd = open(state.partial, O_WRONLY | O_CLOEXEC)
                    guard fd >= 0, lseek(fd, off_t(member.dataOffset), SEEK_SET) >= 0 else {
                        if fd >= 0 { close(fd) }
                        throw MirrorError(.failed, "cannot write \(state.partial): \(String(cString: strerror(errno)))")
                    }
                    options.progress?(ProgressEvent(id: blob.digest.description, kind: .started(total: blob.size)))
                    try await Self.copyVerified(region, blob, to: FileSink(descriptor: fd, closeWhenDone: true, name: state.partial), cleanUp: nil)
                    options.progress?(ProgressEvent(id: blob.digest.description, kind: .bytes(blob.size)))
                    options.progress?(ProgressEvent(id: blob.digest.description, kind: .finished))
                    return blob.size
                }
            }
        }

        let output: String
        var refName: String?
        var fullName = name
        var repoTags = name?.tag != nil ? [name!.with(digest: nil)] : []
        switch destination {
        case .ociArchive(let path, let tag):
            output = path
            refName = tag ?? name?.description
            if let tag, let full = ArchiveSource.fullName(tag) { fullName = full }
        case .dockerArchive(let path, let reference):
            output = path
            refName = name?.description
            if let reference {
                let tagged: Reference
                do { tagged = try Reference(parsing: reference) } catch { throw MirrorError(.usage, "docker-archive:\(path):\(reference): \(error)") }
                guard tagged.digest == nil else { throw MirrorError(.usage, "docker-archive:\(path):\(reference): a docker archive names images by REPO:TAG, not by digest") }
                let withTag = tagged.tag == nil ? tagged.with(tag: "latest") : tagged
                repoTags = [withTag]
                fullName = withTag
                refName = withTag.description
            }
        default:
            preconditionFailure("not an archive destination: \(destination)")
        }
        guard !Verifier.isDirectory(output) else { throw MirrorError(.usage, "\(output) is a directory; an archive is a file (for a layout directory write oci:\(output))") }

        let docker = if case .dockerArchive = destination { true } else { false }
        let contents = try SingleImageArchive(
            image: plan, refName: refName, fullName: fullName, repoTags: repoTags, platform: options.platform, requireDockerImage: docker)
        let id = name?.description ?? source.description
        options.progress?(ProgressEvent(id: id, kind: .planned(total: contents.blobs.reduce(0) { $0 + $1.size })))
        let state = BundleState(output: output)
        let filled = try await state.fill(
            contents.plan, jobs: options.jobs, progress: options.progress,
            order: { members in lender?.orderedForLending(members, window: options.jobs) { $0.digest! } ?? members }
        ) { member in try await fill(member, state, contents.plan) }
        options.progress?(ProgressEvent(id: id, kind: .imageFinished(reference: id)))
        return CopyResult(
            source: source.description, destination: destination.description, digest: plan.top.digest.description,
            mediaType: plan.top.raw.mediaType.rawValue, blobsFetched: filled.written,
            blobsSkipped: filled.skipped, bytesFetched: filled.bytes)
    }

    /// Names an image that its archive leaves unnamed, in messages only.
    static let unnamed = Reference(registry: "localhost", repository: "unnamed")

    /// Copies a region through the pipeline (hashing it on the way) and refuses it unless it is `blob`.
    static func copyVerified(_ region: BlobRegion, _ blob: Descriptor, to sink: FileSink, cleanUp temp: String?) async throws {
        let result: PipelineResult
        do {
            result = try await Pipeline(hashes: [.input]).run(from: try FileSource(region: region), to: sink)
        } catch {
            if let temp { unlink(temp) }
            throw error
        }
        guard result.input.sha256 == blob.digest.hex, result.input.size == blob.size else {
            if let temp { unlink(temp) }
            throw MirrorError(.failed, "\(region.path): the bytes of \(blob.digest) at offset \(region.offset) are \(result.input); the archive is damaged: run ferry verify on it")
        }
    }
}

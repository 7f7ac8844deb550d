import OCI
import Registry
import Transfer

/// Pushes images from a local source to registries: every blob (skipped when the target has it, mounted when an
/// image of the same job already put it in another repository of that registry, else uploaded), then each image's
/// manifests, children before their index, the tag last. Blobs of all images share `--jobs` slots, so a set of
/// small images goes as fast as one big one.
public struct Pusher: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    public func push(_ items: [PushItem], from source: any PushSource, options: PushOptions) async throws -> PushResult {
        var clients: [String: RegistryClient] = [:]
        for item in items where clients[item.target.registry] == nil {
            clients[item.target.registry] = try RegistryClient(registry: item.target.registry, engine: self.engine, options: options.registry)
        }
        var result = PushResult()
        let work = try await self.prepare(items, source: source, clients: clients, options: options, result: &result)
        try await self.run(work, items: items, source: source, clients: clients, options: options, result: &result)
        result.images = items.map(PushResult.Image.init)
        return result
    }

    /// One blob of one image.
    struct Work: Sendable {
        var item: Int
        var blob: Descriptor
        /// Where the bytes are; nil for a source that fetches them when they are needed.
        var region: BlobRegion?
        var key: BlobKey
        /// Announced to a sequential source as a blob it will be asked for.
        var announced = false
        /// The target already had the blob when asked before the push (`announce`): no need to ask again.
        var present = false
    }

    /// A blob on a registry: what can be mounted between repositories.
    struct BlobKey: Hashable, Sendable {
        var registry: String
        var digest: Digest
    }

    /// What to do, decided before anything is pushed.
    struct Plan {
        /// The first image needing each blob uploads it, largest first.
        var primaries: [Work] = []
        /// Later images needing the same blob wait for the primary, then mount it (or skip it in the same repository).
        var dependents: [BlobKey: [Work]] = [:]
        /// Blobs per image still to be done before its manifests can go.
        var remaining: [Int] = []
    }

    /// Finds every blob in the source and orders the work. A blob the source lacks (a delta bundle) must already
    /// be at the target; if it isn't, the push is refused here, before anything is sent.
    private func prepare(
        _ items: [PushItem], source: any PushSource, clients: [String: RegistryClient], options: PushOptions, result: inout PushResult
    ) async throws -> Plan {
        var plan = Plan()
        var owners = Set<BlobKey>()
        var absent: [(item: Int, blob: Descriptor)] = []
        var damaged: [String] = []
        for (i, item) in items.enumerated() {
            var count = 0
            for blob in item.plan.blobs {
                let region = source.fetchesOnDemand ? nil : source.region(of: blob.digest)
                if region == nil && !source.fetchesOnDemand {
                    absent.append((i, blob))
                    continue
                }
                if let region, region.size != blob.size {
                    damaged.append("\(blob.digest) of \(item.plan.source) is \(region.size) bytes in \(source.description), its descriptor says \(blob.size)")
                    continue
                }
                let key = BlobKey(registry: item.target.registry, digest: blob.digest)
                let work = Work(item: i, blob: blob, region: region, key: key)
                if owners.insert(key).inserted {
                    plan.primaries.append(work)
                } else {
                    plan.dependents[key, default: []].append(work)
                }
                count += 1
            }
            plan.remaining.append(count)
        }
        guard damaged.isEmpty else {
            throw MirrorError(.failed, "\(source.description) is damaged:\n  " + damaged.joined(separator: "\n  ") + "\nrun ferry verify on it")
        }
        var missing: [String] = []
        for (i, blob) in absent {
            let target = items[i].target
            let present = try await self.withHint(target) {
                try await clients[target.registry]!.hasBlob(repository: target.repository, digest: blob.digest)
            }
            if present {
                result.blobsSkipped += 1
                options.progress?(ProgressEvent(id: blob.digest.description, kind: .skipped(total: blob.size)))
            } else if blob.urls == nil {
                missing.append("\(blob.digest) (\(blob.size) bytes) of \(items[i].plan.source)")
            }
        }
        guard missing.isEmpty else {
            let shown = missing.prefix(10).joined(separator: "\n  ") + (missing.count > 10 ? "\n  … and \(missing.count - 10) more" : "")
            throw MirrorError(.failed, "\(missing.count) blob\(missing.count == 1 ? " is" : "s are") neither in \(source.description) nor at the target:\n  \(shown)\nif this is a delta bundle, load the bundle it builds on first; nothing was pushed")
        }
        if let sequential = source as? any SequentialPushSource {
            try await self.announce(&plan, to: sequential, clients: clients, items: items, options: options)
        } else {
            // Largest first: the long uploads start early and small ones fill the gaps.
            plan.primaries.sort { $0.blob.size > $1.blob.size }
        }
        return plan
    }

    /// A source read forward only (a compressed archive without index) brings its blobs in stream order, once:
    /// ask for them in that order, and tell it beforehand which ones the targets lack, so it skips the bytes of
    /// the others and its window of spooled blobs always holds ones being uploaded.
    private func announce(_ plan: inout Plan, to source: any SequentialPushSource, clients: [String: RegistryClient], items: [PushItem], options: PushOptions) async throws {
        let primaries = plan.primaries
        var present = Set<Int>()
        try await forEachConcurrently(primaries.indices, jobs: options.jobs) { i in
            let target = items[primaries[i].item].target
            return (i, try await self.withHint(target) {
                try await clients[target.registry]!.hasBlob(repository: target.repository, digest: primaries[i].blob.digest)
            })
        } collect: { i, has in
            if has { present.insert(i) }
        }
        var lending: [Digest: Int] = [:]
        for i in plan.primaries.indices {
            if present.contains(i) {
                plan.primaries[i].present = true
            } else {
                plan.primaries[i].announced = true
                lending[plan.primaries[i].blob.digest, default: 0] += 1
            }
        }
        plan.primaries.sort { source.position(of: $0.blob.digest) < source.position(of: $1.blob.digest) }
        source.start(lending: lending, window: options.jobs)
    }

    private enum Step: Sendable {
        case blob(Work, mountFrom: String?)
        case manifests(Int)
    }

    private enum Done: Sendable {
        case blob(Work, BlobUpload.Outcome)
        case manifests(Int)
    }

    /// Runs the blobs at most `jobs` at a time; an image's manifests go once its last blob is in. The first failure
    /// cancels the rest.
    private func run(_ plan: Plan, items: [PushItem], source: any PushSource, clients: [String: RegistryClient], options: PushOptions, result: inout PushResult) async throws {
        var plan = plan
        // Repositories known to hold each blob, for mounts and for skipping without a request.
        var holders: [BlobKey: [String]] = [:]
        var ready: [Step] = []
        var pending = plan.primaries[...]
        for (i, count) in plan.remaining.enumerated() where count == 0 { ready.append(.manifests(i)) }

        try await withThrowingTaskGroup(of: Done.self) { group in
            var running = 0
            func next() -> Step? {
                if !ready.isEmpty { return ready.removeFirst() }
                return pending.popFirst().map { .blob($0, mountFrom: nil) }
            }
            func start(_ step: Step) {
                running += 1
                group.addTask {
                    switch step {
                    case .blob(let work, let from):
                        let target = items[work.item].target
                        let outcome = try await self.withHint(target) {
                            try await self.upload(work, of: items[work.item], mountFrom: from, source: source, client: clients[target.registry]!, options: options)
                        }
                        return .blob(work, outcome)
                    case .manifests(let i):
                        try await self.pushManifests(items[i], client: clients[items[i].target.registry]!, progress: options.progress)
                        return .manifests(i)
                    }
                }
            }
            func blobDone(_ work: Work) {
                plan.remaining[work.item] -= 1
                if plan.remaining[work.item] == 0 { ready.append(.manifests(work.item)) }
            }

            while running < options.jobs, let step = next() { start(step) }
            while let done = try await group.next() {
                running -= 1
                if case .blob(let work, let outcome) = done {
                    switch outcome {
                    case .skipped: result.blobsSkipped += 1
                    case .mounted: result.blobsMounted += 1
                    case .uploaded(let sent, let resumedAt, _):
                        result.blobsUploaded += 1
                        result.bytesUploaded += sent
                        if resumedAt > 0 { result.blobsResumed += 1 }
                    }
                    holders[work.key, default: []].append(items[work.item].target.repository)
                    blobDone(work)
                    // Images waiting for this blob: skip it where it already is, mount it elsewhere.
                    for dependent in plan.dependents.removeValue(forKey: work.key) ?? [] {
                        let repository = items[dependent.item].target.repository
                        if holders[work.key]!.contains(repository) {
                            result.blobsSkipped += 1
                            options.progress?(ProgressEvent(id: dependent.blob.digest.description, kind: .skipped(total: dependent.blob.size)))
                            blobDone(dependent)
                        } else {
                            ready.append(.blob(dependent, mountFrom: holders[work.key]!.first))
                        }
                    }
                }
                while running < options.jobs, let step = next() { start(step) }
            }
        }
    }

    /// One blob to one repository. A blob that must be fetched first (from another registry) is fetched only when
    /// the target has it nowhere: skip and mount are tried before.
    private func upload(_ work: Work, of item: PushItem, mountFrom: String?, source: any PushSource, client: RegistryClient, options: PushOptions) async throws -> BlobUpload.Outcome {
        if work.present {
            // What `BlobUpload` does on finding the blob there, without asking the registry a second time.
            options.upload.journal?.remove(registry: client.registry, repository: item.target.repository, digest: work.blob.digest)
            options.progress?(ProgressEvent(id: work.blob.digest.description, kind: .skipped(total: work.blob.size)))
            return .skipped
        }
        func upload(_ region: BlobRegion) async throws -> BlobUpload.Outcome {
            try await BlobUpload(
                client: client, repository: item.target.repository, digest: work.blob.digest, size: work.blob.size,
                file: region.path, fileOffset: region.offset, options: options.upload, progress: options.progress
            ).run(mountFrom: mountFrom)
        }
        if let region = work.region { return try await upload(region) }
        let probe = BlobUpload(
            client: client, repository: item.target.repository, digest: work.blob.digest, size: work.blob.size, file: "",
            options: options.upload, progress: options.progress)
        if let done = try await probe.skipOrMount(from: mountFrom) {
            if work.announced, let sequential = source as? any SequentialPushSource { sequential.release(work.blob.digest) }
            return done
        }
        return try await source.lend(work.blob, of: item.plan.source) { region in try await upload(region) }
    }

    /// Children by digest first, so the index finds them; the top manifest last, by tag when there is one, since
    /// that is the moment the image appears under its name.
    private func pushManifests(_ item: PushItem, client: RegistryClient, progress: ProgressHandler?) async throws {
        let target = item.target
        try await self.withHint(target) {
            for manifest in item.plan.manifests where manifest.digest != item.plan.top.digest {
                try await client.putManifest(manifest.raw, repository: target.repository, reference: manifest.digest.description)
            }
            let reference = target.tag ?? item.plan.top.digest.description
            let stored = try await client.putManifest(item.plan.top.raw, repository: target.repository, reference: reference)
            if let pinned = target.digest, pinned != stored {
                throw MirrorError(.failed, "\(target): the manifest pushed has digest \(stored), not the \(pinned) the name pins")
            }
        }
        progress?(ProgressEvent(id: target.description, kind: .imageFinished(reference: target.description)))
    }

    /// Adds what a refused push usually means on Harbor, GitLab or Nexus: the project or namespace does not
    /// exist yet, or the account may not push to it.
    func withHint<T: Sendable>(_ target: Reference, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as RegistryError where e.code == .denied || e.specCodes.contains("NAME_UNKNOWN") {
            // Harbor projects and Nexus repositories are the first path component; GitLab groups start there too.
            let components = target.repository.split(separator: "/")
            let place = components.count < 2 ? "the repository \(target.repository)" : "the project or namespace \(components[0])"
            throw MirrorError(.failed, "\(e.message)\n\(target.registry) refused to push \(target.name): \(place) may have to be created first (Harbor projects, GitLab groups, Nexus repositories), and the account needs push rights on it")
        }
    }
}

import OCI
import Registry
import Transfer

/// `ferry sync`: images from their registries into another registry under a namespace, named as `load` and
/// `rewrite` name them, with the source's digests. Images whose manifest is already at the target under the same
/// digest are skipped whole; blobs go registry to registry through a spool of what is in flight.
public struct Syncer: Sendable {
    let engine: CurlEngine

    public init(engine: CurlEngine) {
        self.engine = engine
    }

    /// How a sync runs: pushing as `load` does, fetching as `copy` does.
    public struct Options: Sendable {
        public var platform: PlatformChoice
        public var push: PushOptions
        /// `--connections`, `--chunk-size`, retries and stall timeout of the fetches.
        public var download: DownloadOptions
        /// Carry on after an image fails, and report every failure at the end (`--keep-going`).
        public var keepGoing: Bool

        public init(platform: PlatformChoice = .all, push: PushOptions = PushOptions(), download: DownloadOptions = DownloadOptions(), keepGoing: Bool = false) {
            self.platform = platform
            self.push = push
            self.download = download.budgeted(jobs: push.jobs)
            self.keepGoing = keepGoing
        }
    }

    public struct Result: Sendable {
        /// Every image now at the target: pushed ones and those already there.
        public var images: [PushResult.Image] = []
        /// Images whose manifest was at the target already, under the same digest.
        public var upToDate = 0
        public var push = PushResult()
        /// Images that failed (only with `keepGoing`), with what went wrong.
        public var failures: [(source: Reference, message: String)] = []
    }

    public func sync(_ references: [Reference], naming: TargetNaming, options: Options) async throws -> Result {
        guard !references.isEmpty else { throw MirrorError(.usage, "no images to sync: name them as arguments or with -f LIST") }
        let targets = try naming.targets(for: references)
        return try await self.sync(references.map { ($0, targets[$0]!) }, options: options)
    }

    /// Each source to the target given with it.
    func sync(_ pairs: [(source: Reference, target: Reference)], options: Options) async throws -> Result {
        let clients = RegistryClients(engine: self.engine, options: options.push.registry)
        var result = Result()

        // Resolve every image first: the digests are fixed here, and an unknown name fails before anything moves.
        var items: [PushItem] = []
        for (reference, target) in pairs {
            do {
                let source = RegistrySource(client: try await clients.client(for: reference.registry))
                items.append(PushItem(plan: try await source.plan(reference, platform: options.platform), target: target))
            } catch where options.keepGoing && !(error is CancellationError) {
                result.failures.append((reference, Self.message(error)))
            }
        }

        // Up to date: the same manifest digest under the target's tag (or digest).
        var pending: [PushItem] = []
        for item in items {
            let client = try await clients.client(for: item.target.registry)
            let reference = item.target.tag ?? item.plan.top.digest.description
            if try await client.manifestDigest(repository: item.target.repository, reference: reference) == item.plan.top.digest {
                result.upToDate += 1
                result.images.append(PushResult.Image(item))
                options.push.progress?(ProgressEvent(id: item.target.description, kind: .imageFinished(reference: item.target.description)))
            } else {
                pending.append(item)
            }
        }

        let source = RegistryBlobSource(clients: clients, spool: RegistryBlobSource.defaultSpool(), download: options.download)
        let pusher = Pusher(engine: self.engine)
        // Without --keep-going all images share the job's slots; with it each image goes on its own, so one
        // failure stops only that image.
        let batches = options.keepGoing ? pending.map { [$0] } : (pending.isEmpty ? [] : [pending])
        for batch in batches {
            do {
                let pushed = try await pusher.push(batch, from: source, options: options.push)
                result.images += pushed.images
                result.push.blobsUploaded += pushed.blobsUploaded
                result.push.blobsSkipped += pushed.blobsSkipped
                result.push.blobsMounted += pushed.blobsMounted
                result.push.blobsResumed += pushed.blobsResumed
                result.push.bytesUploaded += pushed.bytesUploaded
            } catch where options.keepGoing && !(error is CancellationError) && !Task.isCancelled {
                result.failures.append((batch[0].plan.source, Self.message(error)))
            }
        }
        result.push.images = result.images
        return result
    }

    static func message(_ error: any Error) -> String {
        switch error {
        case let e as MirrorError: e.message
        case let e as RegistryError: e.message
        case let e as TransferError: e.message
        default: "\(error)"
        }
    }
}

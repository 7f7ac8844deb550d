import Foundation

/// Pushes a `BuiltImage` into a registry with the registry API over `curl`, independently of Ferry's own code,
/// so tests, the demo and perf runs start from a registry that already holds the image.
///
/// Blobs go first, several at a time (`HEAD` skips those already there; `POST` an upload, then `PUT` the whole
/// blob), then child manifests by digest, then the top manifest under the tag, so the tag never points at an
/// incomplete image. Basic and bearer-token auth are handled as a client would.
public struct Seeder: Sendable {
    public let baseURL: URL
    public let credentials: Credentials?
    public let caCertPath: URL?
    /// Blobs uploaded at once.
    public let parallelism: Int

    /// What a push did.
    public struct Report: Sendable, Hashable {
        /// The digest the registry reported for the top manifest (checked to equal the image's).
        public let digest: String
        public let blobsPushed: Int
        /// Blobs the registry already had (`HEAD` answered 200).
        public let blobsSkipped: Int
        public let bytesPushed: Int
    }

    /// - Parameters:
    ///   - baseURL: `http(s)://HOST:PORT` of the registry.
    ///   - credentials: for basic auth, or for the token service behind a `Bearer` challenge.
    ///   - caCertPath: the CA that signed the registry's TLS certificate.
    ///   - parallelism: blobs uploaded at once.
    public init(baseURL: URL, credentials: Credentials? = nil, caCertPath: URL? = nil, parallelism: Int = 4) {
        precondition(parallelism > 0, "parallelism must be at least 1")
        self.baseURL = baseURL
        self.credentials = credentials
        self.caCertPath = caCertPath
        self.parallelism = parallelism
    }

    /// A seeder for a launched test registry, with its CA and (first) user.
    public init(_ registry: TestRegistry, parallelism: Int = 4) {
        self.init(
            baseURL: registry.url, credentials: registry.credentials, caCertPath: registry.caCertPath,
            parallelism: parallelism)
    }

    /// Pushes `image` to `repository` under the image's own tag.
    @discardableResult
    public func push(_ image: BuiltImage, to repository: String) async throws -> Report {
        try await self.push(image, to: repository, tag: image.tag)
    }

    /// Pushes `image` to `repository` under `tag`, or by digest only when `tag` is nil.
    @discardableResult
    public func push(_ image: BuiltImage, to repository: String, tag: String?) async throws -> Report {
        var curl = RegistryCurl(caCertPath: self.caCertPath)
        curl.authorization = try await RegistryChallenge.authorize(
            curl, baseURL: self.baseURL, repository: repository, credentials: self.credentials)
        let base = self.baseURL.absoluteString + "/v2/" + repository

        // Configs and layers, each once even when platforms share some.
        var seen = Set<String>()
        var blobs: [BuiltImage.Blob] = []
        for manifest in image.manifests {
            for blob in [manifest.config] + manifest.layers.map(\.blob) where seen.insert(blob.digest).inserted {
                blobs.append(blob)
            }
        }
        let outcomes = try await self.pushBlobs(blobs, of: image, base: base, curl: curl)

        for manifest in image.manifests where manifest.manifest != image.top {
            try await self.putManifest(
                manifest.manifest, of: image, base: base, reference: manifest.manifest.digest, curl: curl)
        }
        try await self.putManifest(image.top, of: image, base: base, reference: tag ?? image.digest, curl: curl)

        let pushed = outcomes.filter { $0.pushed }
        return Report(
            digest: image.digest, blobsPushed: pushed.count, blobsSkipped: outcomes.count - pushed.count,
            bytesPushed: pushed.reduce(0) { $0 + $1.size })
    }

    private struct BlobOutcome: Sendable {
        let pushed: Bool
        let size: Int
    }

    /// Uploads blobs with at most `parallelism` in flight.
    private func pushBlobs(
        _ blobs: [BuiltImage.Blob], of image: BuiltImage, base: String, curl: RegistryCurl
    ) async throws -> [BlobOutcome] {
        try await withThrowingTaskGroup(of: BlobOutcome.self) { group in
            var pending = blobs.makeIterator()
            var outcomes: [BlobOutcome] = []
            for _ in 0..<self.parallelism {
                guard let blob = pending.next() else { break }
                group.addTask {
                    try await Self.pushBlob(blob, from: image.path(of: blob.digest), base: base, curl: curl)
                }
            }
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                if let blob = pending.next() {
                    group.addTask {
                        try await Self.pushBlob(blob, from: image.path(of: blob.digest), base: base, curl: curl)
                    }
                }
            }
            return outcomes
        }
    }

    /// `HEAD`, then `POST` an upload session and `PUT` the whole blob to it with `?digest=`.
    private static func pushBlob(
        _ blob: BuiltImage.Blob, from file: URL, base: String, curl: RegistryCurl
    ) async throws -> BlobOutcome {
        let head = try await curl.request("HEAD", "\(base)/blobs/\(blob.digest)")
        if head.status == 200 { return BlobOutcome(pushed: false, size: blob.size) }

        let start = try await curl.request("POST", "\(base)/blobs/uploads/")
        guard start.status == 202, let location = start.headers["location"],
            let uploadURL = URL(string: location, relativeTo: URL(string: base)!)?.absoluteURL
        else {
            throw TestSupportError("POST \(base)/blobs/uploads/ answered \(start.status): \(start.bodyText)")
        }
        let separator = uploadURL.query == nil ? "?" : "&"
        let digest = blob.digest.replacingOccurrences(of: ":", with: "%3A")
        let put = try await curl.request(
            "PUT", uploadURL.absoluteString + separator + "digest=" + digest,
            headers: ["Content-Type: application/octet-stream"], uploadFile: file)
        guard put.status == 201 else {
            throw TestSupportError("uploading \(blob.digest) answered \(put.status): \(put.bodyText)")
        }
        if let reported = put.headers["docker-content-digest"], reported != blob.digest {
            throw TestSupportError("the registry stored \(blob.digest) as \(reported)")
        }
        return BlobOutcome(pushed: true, size: blob.size)
    }

    /// `PUT /v2/<repo>/manifests/<reference>` with the manifest's media type; checks the digest the registry reports.
    private func putManifest(
        _ manifest: BuiltImage.Blob, of image: BuiltImage, base: String, reference: String, curl: RegistryCurl
    ) async throws {
        let reply = try await curl.request(
            "PUT", "\(base)/manifests/\(reference)", headers: ["Content-Type: \(manifest.mediaType)"],
            uploadFile: image.path(of: manifest.digest))
        guard reply.status == 201 else {
            throw TestSupportError("PUT manifest \(reference) answered \(reply.status): \(reply.bodyText)")
        }
        guard reply.headers["docker-content-digest"] == manifest.digest else {
            throw TestSupportError(
                "the registry reports \(reply.headers["docker-content-digest"] ?? "no digest") for manifest "
                    + "\(manifest.digest) pushed as \(reference)")
        }
    }
}

import Foundation
import OCI
import Transfer

/// Where one blob's bytes are fetched from, for the Range requests of a segmented download.
///
/// The first request goes through the registry (with auth); a redirect to storage elsewhere (S3, a CDN, another
/// host) is remembered in memory so later segments go straight there, without our `Authorization`. A signed URL
/// that expires (401/403/404/410) is resolved again through the registry. Redirect URLs are never persisted.
/// Unread bytes one segment connection may hold before curl pauses: with `--jobs` × `--connections` of them in
/// flight, this is what bounds memory. 1 MiB made a bundle's direct writes larger but no save measurably faster, and
/// on a slow disk, with more chunks waiting, a save's peak RSS reached 125 MB (DESIGN: < 100 MB for 2 GiB).
let segmentBuffer = 512 << 10

public actor BlobLocator {
    let client: RegistryClient
    let repository: String
    let digest: Digest
    private var redirected: String?

    public init(client: RegistryClient, repository: String, digest: Digest) {
        self.client = client
        self.repository = repository
        self.digest = digest
    }

    private var what: String { "blob \(self.digest.short) of \(self.client.registry)/\(self.repository)" }

    /// GETs `range` of the blob over HTTP/1.1 (one TCP connection per segment).
    public func fetch(_ range: ClosedRange<Int64>) async throws -> (Response, ResponseBody) {
        var headers = HTTPHeaders()
        headers.set("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")
        if let url = self.redirected {
            let (response, body) = try await self.direct(url, headers: headers)
            if response.isSuccess { return (response, body) }
            if [401, 403, 404, 410].contains(response.status) {
                body.cancel()
                self.redirected = nil
            } else {
                throw await self.failure(response, body)
            }
        }
        var (response, body) = try await self.client.send(
            "/v2/\(self.repository)/blobs/\(self.digest)", headers: headers,
            scopes: [RegistryClient.pullScope(self.repository)], httpVersion: .http1_1, bufferLimit: segmentBuffer)
        var hops = 0
        while response.isRedirect, let location = response.headers["location"] {
            hops += 1
            body.cancel()
            guard hops <= 5, let next = URL(string: location, relativeTo: URL(string: response.url))?.absoluteURL.absoluteString else {
                throw RegistryError(.badResponse, "\(self.what): too many or malformed redirects")
            }
            self.redirected = next
            (response, body) = try await self.direct(next, headers: headers)
        }
        guard response.isSuccess else { throw await self.failure(response, body) }
        return (response, body)
    }

    private func direct(_ url: String, headers: HTTPHeaders) async throws -> (Response, ResponseBody) {
        try await self.client.engine.execute(Request(url: url, headers: headers, httpVersion: .http1_1, tls: self.client.options.tls, bufferLimit: segmentBuffer))
    }

    private func failure(_ response: Response, _ body: ResponseBody) async -> RegistryError {
        let bytes = (try? await body.collect(upTo: 64 << 10)) ?? []
        return await self.client.failure(response, bytes, what: self.what)
    }
}

import Foundation
import OCI
import Transfer

extension RegistryClient {
    /// Starts a blob download and returns its response once the head is in, following redirects
    /// (a redirect to another host does not get our `Authorization`).
    ///
    /// - Parameter range: byte range to ask for (`Range: bytes=a-b`); the caller checks for 206.
    public func blob(repository: String, digest: Digest, range: ClosedRange<Int64>? = nil, httpVersion: Request.HTTPVersion = .automatic) async throws -> (Response, ResponseBody) {
        let what = "blob \(digest.short) of \(self.registry)/\(repository)"
        var headers = HTTPHeaders()
        if let r = range { headers.set("Range", "bytes=\(r.lowerBound)-\(r.upperBound)") }
        var (response, body) = try await self.send(
            "/v2/\(repository)/blobs/\(digest)",
            headers: headers,
            scopes: [Self.pullScope(repository)],
            httpVersion: httpVersion
        )
        var hops = 0
        while response.isRedirect, let location = response.headers["location"] {
            hops += 1
            body.cancel()
            guard hops <= 5, let next = URL(string: location, relativeTo: URL(string: response.url))?.absoluteURL.absoluteString else {
                throw RegistryError(.badResponse, "\(what): too many or malformed redirects")
            }
            let request = Request(url: next, headers: headers, httpVersion: httpVersion, tls: self.options.tls)
            do {
                (response, body) = try await self.engine.execute(request)
            } catch let e as TransferError {
                throw RegistryError.from(e, registry: URL(string: next)?.host ?? self.registry)
            }
        }
        if !response.isSuccess {
            let bytes = (try? await body.collect(upTo: 64 << 10)) ?? []
            throw await self.failure(response, bytes, what: what)
        }
        return (response, body)
    }

    /// `HEAD` a blob: its size when present, `nil` when the registry does not have it.
    public func blobSize(repository: String, digest: Digest) async throws -> Int64? {
        let what = "blob \(digest.short) of \(self.registry)/\(repository)"
        let (response, body) = try await self.sendSmall("/v2/\(repository)/blobs/\(digest)", method: .head, scopes: [Self.pullScope(repository)], what: what)
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw await self.failure(response, body, what: what) }
        return response.contentLength
    }
}

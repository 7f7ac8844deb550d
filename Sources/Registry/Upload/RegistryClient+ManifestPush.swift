import Codec
import OCI
import Transfer

extension RegistryClient {
    /// `PUT /v2/NAME/manifests/REFERENCE` with the manifest's exact bytes and media type, so its digest survives.
    ///
    /// Retried like any small request (429 with `Retry-After` included): putting the same bytes twice is harmless.
    /// - Parameters:
    ///   - reference: a tag, or the manifest's digest for children of an index and digest-only images.
    /// - Returns: the digest the registry stored it under, checked against the bytes' own.
    @discardableResult
    public func putManifest(_ raw: RawManifest, repository: String, reference: String) async throws -> Digest {
        let digest = try Digest(sha256Hex: SHA256.hexDigest(raw.bytes))
        let what = "manifest \(self.registry)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
        var headers = HTTPHeaders()
        headers.set("Content-Type", raw.mediaType.rawValue)
        let (response, body) = try await self.sendSmall(
            "/v2/\(repository)/manifests/\(reference)", method: .put, headers: headers, body: .bytes(raw.bytes),
            scopes: [Self.pushScope(repository)], what: what, maxBodyBytes: 64 << 10)
        guard response.isSuccess else { throw await self.failure(response, body, what: what) }
        if let stored = response.headers["docker-content-digest"], stored.trimmingASCIIWhitespace() != digest.description {
            throw RegistryError(.digestMismatch, "\(what): the registry stored the manifest as \(stored), not \(digest); it may rewrite manifests, which breaks digest-pinned references")
        }
        return digest
    }
}

extension RegistryClient {
    /// `HEAD /v2/NAME/manifests/REFERENCE` with the push token: the digest stored under a tag (or digest), nil when
    /// there is none or the registry does not say (then the image is pushed, which is never wrong).
    public func manifestDigest(repository: String, reference: String) async throws -> Digest? {
        let what = "manifest \(self.registry)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
        var headers = HTTPHeaders()
        headers.set("Accept", MediaType.manifestAccept.map(\.rawValue).joined(separator: ", "))
        let (response, body) = try await self.sendSmall(
            "/v2/\(repository)/manifests/\(reference)", method: .head, headers: headers,
            scopes: [Self.pushScope(repository)], what: what)
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw await self.failure(response, body, what: what) }
        return response.headers["docker-content-digest"].flatMap { try? Digest(String($0.trimmingASCIIWhitespace())) }
    }
}

import Codec
import OCI
import Transfer

extension RegistryClient {
    /// Fetches the manifest `reference` names, exactly as served, and checks it against the digest in the
    /// reference when there is one.
    public func manifest(_ reference: Reference) async throws -> (RawManifest, Digest) {
        let what = "manifest \(reference)"
        var headers = HTTPHeaders()
        headers.set("Accept", MediaType.manifestAccept.map(\.rawValue).joined(separator: ", "))
        let (response, body) = try await self.sendSmall(
            "/v2/\(reference.repository)/manifests/\(reference.identifier)",
            headers: headers,
            scopes: [Self.pullScope(reference.repository)],
            what: what
        )
        guard response.isSuccess else { throw await self.failure(response, body, what: what) }
        let digest = try Digest(sha256Hex: SHA256.hexDigest(body))
        if let wanted = reference.digest, wanted != digest {
            throw RegistryError(.digestMismatch, "\(what): the registry served content with digest \(digest), not \(wanted); the registry or a proxy is returning wrong data")
        }
        let contentType = response.headers["content-type"].map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) }
        let raw: RawManifest
        do {
            raw = try RawManifest(bytes: body, mediaType: contentType.map { MediaType(rawValue: $0) })
        } catch {
            throw RegistryError(.badResponse, "\(what): \(error)")
        }
        return (raw, digest)
    }
}

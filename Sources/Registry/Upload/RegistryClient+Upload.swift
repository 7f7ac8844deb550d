import Foundation
import OCI
import Transfer

/// The upload verbs of the distribution spec (`POST`, `PATCH`, `PUT`, `GET` on `/v2/NAME/blobs/uploads/`), one
/// request each. Which to send when, and what to do after a failure, is `BlobUpload`'s job.
extension RegistryClient {
    /// `repository:NAME:pull,push`: what every request of a push asks for, so one token serves them all.
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    /// What a `POST /v2/NAME/blobs/uploads/` led to.
    enum UploadStart: Sendable {
        /// `201 Created` to a mount request: the blob is now in the repository, nothing to send.
        case mounted
        /// `202 Accepted`: a session to send the blob through; `minimumChunk` is `OCI-Chunk-Min-Length`.
        case session(UploadSession, minimumChunk: Int64?)
    }

    /// `HEAD /v2/NAME/blobs/DIGEST` with the push token: true when the repository has the blob.
    public func hasBlob(repository: String, digest: Digest) async throws -> Bool {
        let what = "blob \(digest.short) at \(self.registry)/\(repository)"
        let (response, body) = try await self.sendSmall(
            "/v2/\(repository)/blobs/\(digest)", method: .head, scopes: [Self.pushScope(repository)], what: what)
        if response.status == 404 { return false }
        guard response.isSuccess else { throw await self.failure(response, body, what: what) }
        return true
    }

    /// Opens an upload session, or with `mount` asks for the blob to be mounted from another repository of this
    /// registry (`?mount=DIGEST&from=SOURCE`). A registry that can't mount answers with a session instead.
    ///
    /// The mount token must carry `pull` on the source as well as `pull,push` on the target, in one token.
    func startUpload(repository: String, mount: (digest: Digest, from: String)? = nil) async throws -> UploadStart {
        var path = "/v2/\(repository)/blobs/uploads/"
        var scopes = [Self.pushScope(repository)]
        if let mount {
            let from = mount.from.addingPercentEncoding(withAllowedCharacters: .uploadQueryValue) ?? mount.from
            path += "?mount=\(mount.digest)&from=\(from)"
            scopes.append(Self.pullScope(mount.from))
        }
        let what = mount == nil ? "starting an upload to \(self.registry)/\(repository)" : "mounting blob \(mount!.digest.short) from \(mount!.from) into \(self.registry)/\(repository)"
        // Safe to retry: a POST whose answer was lost leaves an empty session the registry purges later.
        let (response, body) = try await self.sendSmall(path, method: .post, scopes: scopes, what: what)
        switch response.status {
        case 201 where mount != nil:
            return .mounted
        case 202:
            let minimum = response.headers["oci-chunk-min-length"].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            return .session(try UploadSession.from(response, fallbackOffset: 0), minimumChunk: minimum)
        default:
            throw await self.failure(response, body, what: what)
        }
    }

    /// `GET` on the upload URL: the registry's own view of the session, or nil when it no longer knows it
    /// (`BLOB_UPLOAD_INVALID` for a stale signed URL, `BLOB_UPLOAD_UNKNOWN`, or 404).
    func uploadStatus(_ session: UploadSession, repository: String) async throws -> UploadSession? {
        let what = "status of an upload to \(self.registry)/\(repository)"
        let (response, body) = try await self.sendUploadRequest(session.location, method: .get, repository: repository, what: what, retries: true)
        if response.status == 204 || response.status == 202 || response.status == 200 {
            return try UploadSession.from(response, fallbackOffset: 0, fallbackLocation: session.location)
        }
        let e = await self.failure(response, body, what: what)
        if Self.uploadIsGone(e) { return nil }
        throw e
    }

    /// One `PATCH` of `length` bytes of `body` at `session.offset`. Never retried here: after a failure only a
    /// `GET` of the session can say how much of it the registry kept.
    func patch(
        _ session: UploadSession, repository: String, body: Request.Body, length: Int64, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> (Response, [UInt8]) {
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/octet-stream")
        // Distribution ignores Content-Range on PATCH and appends; spec registries use it to refuse a wrong offset (416).
        headers.set("Content-Range", "\(session.offset)-\(session.offset + length - 1)")
        return try await self.sendUploadRequest(
            session.location, method: .patch, headers: headers, body: body, repository: repository,
            what: "uploading to \(self.registry)/\(repository)", retries: false, progress: progress)
    }

    /// The closing `PUT …?digest=DIGEST`, with the last bytes as its body (all of them for a monolithic upload).
    func commitUpload(
        _ session: UploadSession, repository: String, digest: Digest, body: Request.Body, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> (Response, [UInt8]) {
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/octet-stream")
        return try await self.sendUploadRequest(
            session.url(adding: "digest", digest.description), method: .put, headers: headers, body: body,
            repository: repository, what: "committing blob \(digest.short) to \(self.registry)/\(repository)", retries: false,
            progress: progress)
    }

    /// Sends a request to an upload URL, with our credentials only when the URL is on the registry itself (an
    /// upload URL elsewhere is presigned storage and must not see our `Authorization`).
    private func sendUploadRequest(
        _ url: String, method: Request.Method, headers: HTTPHeaders = HTTPHeaders(), body: Request.Body = .none,
        repository: String, what: String, retries: Bool, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> (Response, [UInt8]) {
        let base = try await self.baseURL()
        let sameOrigin = url.hasPrefix(base + "/")
        if retries && sameOrigin {
            return try await self.sendSmall(url, method: method, headers: headers, body: body, scopes: [Self.pushScope(repository)], what: what, maxBodyBytes: 64 << 10)
        }
        let attempt: @Sendable () async throws -> (Response, [UInt8]) = {
            let (response, stream): (Response, ResponseBody)
            var request = Request(method: method, url: url, headers: headers, body: body, httpVersion: .http1_1, tls: self.options.tls)
            request.bodyProgress = progress
            if sameOrigin {
                (response, stream) = try await self.sendAuthorized(request, scopes: [Self.pushScope(repository)])
            } else {
                do {
                    (response, stream) = try await self.engine.execute(request)
                } catch let e as TransferError {
                    throw RegistryError.from(e, registry: URL(string: url)?.host ?? self.registry)
                }
            }
            do {
                return (response, try await stream.collect(upTo: 64 << 10))
            } catch let e as TransferError {
                throw e.code == .tooLarge ? RegistryError(.badResponse, "\(what): \(e.message)") : RegistryError.from(e, registry: self.registry)
            }
        }
        guard retries else { return try await attempt() }
        return try await Retry.run(what: what, policy: self.options.retry, attempt) { r, b in
            r.status == 429 || r.status >= 500 ? RegistryError.from(status: r.status, headers: r.headers, body: b, what: what, registry: self.registry) : nil
        }
    }

    /// Sends `request` with our credentials, renewing them once on a 401, as `send` does; kept apart because an
    /// upload's request carries what `send` does not build (the body-progress hook of the stall watch).
    private func sendAuthorized(_ request: Request, scopes: [String]) async throws -> (Response, ResponseBody) {
        var renewed = false
        while true {
            var attempt = request
            if let authorization = try await self.auth.authorization(scopes: scopes) {
                attempt.headers.set("Authorization", authorization)
            }
            let (response, body): (Response, ResponseBody)
            do {
                (response, body) = try await self.engine.execute(attempt)
            } catch let e as TransferError {
                throw RegistryError.from(e, registry: self.registry)
            }
            guard response.status == 401, !renewed else { return (response, body) }
            body.cancel()
            renewed = true
            // A 401 without a challenge keeps the one we have: dropping it would retry anonymously.
            if let challenge = response.headers.values("www-authenticate").compactMap(Challenge.init(header:)).first {
                await self.auth.update(challenge: challenge)
            }
            await self.auth.invalidate(scopes: scopes)
        }
    }

    /// True when an answer means the session is lost: start the blob again.
    static func uploadIsGone(_ error: RegistryError) -> Bool {
        let codes = Set(error.specCodes)
        return codes.contains("BLOB_UPLOAD_INVALID") || codes.contains("BLOB_UPLOAD_UNKNOWN")
            || (error.status == 404 && !codes.contains("NAME_UNKNOWN"))
    }
}

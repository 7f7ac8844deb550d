import OCI
import Transfer

/// Sending a blob's bytes, and what to do when a request fails: the part of `BlobUpload` that knows the
/// registries' quirks (issue 6). A PATCH is never retried blindly: after any failure the session is asked (`GET`)
/// how much it holds, and the upload goes on from there, or starts again when the session is gone.
extension BlobUpload {
    /// Sends everything from `session.offset` on and commits. Throws `Restart` when the session is lost.
    func transmit(_ session: inout UploadSession, minimumChunk: Int64?, tally: inout Tally) async throws {
        while true {
            let chunk = max(self.options.chunks.current, minimumChunk ?? 0)
            if session.offset == 0 && self.size <= chunk {
                if try await self.putWhole(&session, tally: &tally) { return }
                continue
            }
            while session.offset < self.size {
                let length = min(chunk, self.size - session.offset)
                guard try await self.patchOnce(&session, length: length, tally: &tally) else { break }
            }
            // A failed PATCH may have lowered the chunk size or moved the offset: start over from the top.
            guard session.offset >= self.size else { continue }
            if try await self.commit(&session, tally: &tally) { return }
        }
    }

    /// The monolithic upload: one `PUT ?digest=` with the whole blob. True when committed.
    func putWhole(_ session: inout UploadSession, tally: inout Tally) async throws -> Bool {
        let body = Request.Body.file(path: self.file, offset: self.fileOffset, length: self.size)
        let outcome: (Response, [UInt8])
        do {
            let current = session
            outcome = try await self.watched(length: self.size, meter: tally.meter) { sent in
                try await self.client.commitUpload(current, repository: self.repository, digest: self.digest, body: body, progress: sent)
            }
        } catch let e as RegistryError where Self.isRetryable(e) {
            try await self.recover(&session, after: e, tally: &tally, mayBeCommitted: true)
            return false
        }
        let (response, bytes) = outcome
        if response.status == 201 {
            tally.sent += self.size
            tally.meter.settle(at: self.size)
            return true
        }
        return try await self.refused(response, bytes, session: &session, bodyLength: self.size, tally: &tally, mayBeCommitted: true)
    }

    /// One PATCH of `length` bytes. True when the registry took it; false after a recovery (offset or chunk
    /// size may have changed).
    func patchOnce(_ session: inout UploadSession, length: Int64, tally: inout Tally) async throws -> Bool {
        let body = Request.Body.file(path: self.file, offset: self.fileOffset + session.offset, length: length)
        let outcome: (Response, [UInt8])
        do {
            let current = session
            outcome = try await self.watched(length: length, meter: tally.meter) { sent in
                try await self.client.patch(current, repository: self.repository, body: body, length: length, progress: sent)
            }
        } catch let e as RegistryError where Self.isRetryable(e) {
            try await self.recover(&session, after: e, tally: &tally, mayBeCommitted: false)
            return false
        }
        let (response, bytes) = outcome
        guard response.status == 202 || response.status == 204 else {
            _ = try await self.refused(response, bytes, session: &session, bodyLength: length, tally: &tally, mayBeCommitted: false)
            return false
        }
        var next = try UploadSession.from(response, fallbackOffset: session.offset + length, fallbackLocation: session.location)
        next.offset = min(next.offset, self.size)
        tally.sent += length
        tally.meter.settle(at: next.offset)
        session = next
        try self.options.journal?.record(
            registry: self.client.registry, repository: self.repository, digest: self.digest, size: self.size, session: session)
        return true
    }

    /// The closing `PUT ?digest=` after the chunks. True when committed.
    func commit(_ session: inout UploadSession, tally: inout Tally) async throws -> Bool {
        let outcome: (Response, [UInt8])
        do {
            let current = session
            outcome = try await self.watched(length: 0, meter: tally.meter) { sent in
                try await self.client.commitUpload(current, repository: self.repository, digest: self.digest, body: .none, progress: sent)
            }
        } catch let e as RegistryError where Self.isRetryable(e) {
            try await self.recover(&session, after: e, tally: &tally, mayBeCommitted: true)
            return false
        }
        let (response, bytes) = outcome
        if response.status == 201 { return true }
        return try await self.refused(response, bytes, session: &session, bodyLength: 0, tally: &tally, mayBeCommitted: true)
    }

    /// An answer other than success to a PATCH or PUT: decides between going on, restarting and failing.
    /// True when the blob turned out to be committed after all.
    func refused(
        _ response: Response, _ bytes: [UInt8], session: inout UploadSession, bodyLength: Int64, tally: inout Tally,
        mayBeCommitted: Bool
    ) async throws -> Bool {
        let error = await self.client.failure(response, bytes, what: self.what)
        let codes = Set(error.specCodes)
        if RegistryClient.uploadIsGone(error) {
            if mayBeCommitted, try await self.client.hasBlob(repository: self.repository, digest: self.digest) { return true }
            throw Restart(reason: "the registry no longer knows the upload (\(codes.sorted().joined(separator: ", ")))")
        }
        if codes.contains("DIGEST_INVALID") || codes.contains("SIZE_INVALID") {
            throw Restart(reason: codes.sorted().joined(separator: ", "), contentRefused: true)
        }
        switch response.status {
        case 413:
            // A proxy's or the registry's body limit: smaller chunks for every upload of this job.
            guard bodyLength > 0, self.options.chunks.lower(after: bodyLength) != nil else {
                throw RegistryError(.badResponse, "\(self.what): a body of \(bodyLength) bytes was refused as too large (413), even at the smallest chunk size; check the proxy's or registry's body size limit")
            }
            try await self.recover(&session, after: error, tally: &tally, mayBeCommitted: false)
            return false
        case 416:
            // A registry that honours Content-Range says the offset is wrong: ask it where it is.
            try await self.recover(&session, after: error, tally: &tally, mayBeCommitted: false)
            return false
        default:
            guard Self.isRetryable(error) else { throw error }
            try await self.recover(&session, after: error, tally: &tally, mayBeCommitted: mayBeCommitted)
            return false
        }
    }

    /// After a failed request: pause, then learn from the registry where the session stands. Throws `Restart`
    /// when it is gone, `Committed` when the blob turned out to be in, and the error itself when attempts are used up.
    func recover(_ session: inout UploadSession, after error: RegistryError, tally: inout Tally, mayBeCommitted: Bool) async throws {
        try await self.pause(&tally, reason: error.message, retryAfter: error.retryAfter, last: error)
        let before = session
        let current = try await self.retrying(&tally) { () async throws -> UploadSession? in
            // The answer to a commit may have been lost, not the commit.
            if mayBeCommitted, try await self.client.hasBlob(repository: self.repository, digest: self.digest) {
                throw Committed()
            }
            return try await self.client.uploadStatus(before, repository: self.repository)
        }
        guard var current else {
            throw Restart(reason: "the registry no longer takes the upload after: \(error.message)")
        }
        current.offset = min(current.offset, self.size)
        tally.meter.settle(at: current.offset)
        session = current
    }

    /// Runs a request that is safe to repeat (HEAD, GET) until it gets an answer, for as long as attempts last:
    /// while a link is down, asking where an upload stands fails too.
    func retrying<T>(_ tally: inout Tally, _ body: () async throws -> T) async throws -> T {
        while true {
            do {
                return try await body()
            } catch let e as RegistryError where Self.isRetryable(e) {
                try await self.pause(&tally, reason: e.message, retryAfter: e.retryAfter, last: e)
            }
        }
    }

    /// Counts an attempt and waits before the next; throws `last` when attempts are used up.
    func pause(_ tally: inout Tally, reason: String, retryAfter: Double?, last: RegistryError) async throws {
        tally.attempts += 1
        guard tally.attempts < self.options.attempts else { throw last }
        try Task.checkCancellation()
        self.emit(.retried(attempt: tally.attempts, reason: reason))
        let delay = retryAfter.map { min($0, 60) } ?? self.client.options.retry.delay(attempt: tally.attempts)
        try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
    }

    /// Network trouble and 5xx/429 are worth another attempt; a registry that can't be reached may come back.
    static func isRetryable(_ error: RegistryError) -> Bool {
        error.isTemporary || error.code == .unreachable
    }
}

/// The blob turned out to be in the repository after a lost answer: the upload is done.
struct Committed: Error {}

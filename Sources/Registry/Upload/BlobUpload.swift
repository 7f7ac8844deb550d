import OCI
import Transfer

/// One blob pushed to one repository, end to end: skipped when the repository has it, mounted when another
/// repository of the registry does, else sent in one `PUT` (up to the chunk size) or in `PATCH` chunks, then
/// committed with `PUT ?digest=`. The bytes stream from a region of a file (a bundle member or a layout blob).
///
/// Resumable the way real registries allow (issue 6): the Distribution registry signs the offset into every
/// upload URL, keeps the bytes of a PATCH cut half way (so the last URL then answers `BLOB_UPLOAD_INVALID`) and
/// ignores `Content-Range`. So a PATCH is never retried blindly: after any failure the session is asked (`GET`)
/// how much it holds, and the upload goes on from there, or the blob starts again when the session is gone.
/// After every finished PATCH the session is journaled, so the next run goes on from the registry's offset.
public struct BlobUpload: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The repository already had the blob.
        case skipped
        /// Mounted from `from`, another repository of the registry: no bytes moved.
        case mounted(from: String)
        /// Sent: `sent` bytes in this run, after going on from `resumedAt` bytes a previous run left.
        case uploaded(sent: Int64, resumedAt: Int64, restarts: Int)
    }

    public let client: RegistryClient
    public let repository: String
    public let digest: Digest
    public let size: Int64
    /// The file holding the blob, and where in it the blob starts.
    public let file: String
    public let fileOffset: Int64
    public let options: UploadOptions
    public let progress: ProgressHandler?

    public init(
        client: RegistryClient, repository: String, digest: Digest, size: Int64, file: String, fileOffset: Int64 = 0,
        options: UploadOptions, progress: ProgressHandler? = nil
    ) {
        self.client = client
        self.repository = repository
        self.digest = digest
        self.size = size
        self.file = file
        self.fileOffset = fileOffset
        self.options = options
        self.progress = progress
    }

    /// Thrown inside an attempt when the registry no longer knows the session: the blob starts again.
    struct Restart: Error {
        var reason: String
        /// The registry refused the content at commit (`DIGEST_INVALID`, `SIZE_INVALID`).
        var contentRefused = false
    }

    /// Counters of one run of one blob.
    struct Tally {
        var attempts = 0
        var restarts = 0
        var refusals = 0
        /// Bytes sent in this run, for the summary.
        var sent: Int64 = 0
        /// Progress and the stall watch's clock.
        let meter: UploadMeter
    }

    var what: String { "blob \(self.digest.short) to \(self.client.registry)/\(self.repository)" }

    /// Pushes the blob.
    /// - Parameter mountFrom: a repository of the same registry that has the blob (pushed earlier in this job).
    public func run(mountFrom: String? = nil) async throws -> Outcome {
        if try await self.client.hasBlob(repository: self.repository, digest: self.digest) {
            self.forget()
            self.emit(.skipped(total: self.size))
            return .skipped
        }
        var tally = Tally(meter: UploadMeter(id: self.digest.description, progress: self.progress))
        var session: UploadSession?
        var minimumChunk: Int64?
        let resumedAt = try await self.resumeFromJournal(into: &session)
        if let from = mountFrom, session == nil {
            do {
                switch try await self.client.startUpload(repository: self.repository, mount: (self.digest, from)) {
                case .mounted:
                    self.emit(.mounted(total: self.size))
                    return .mounted(from: from)
                case .session(let s, let minimum):
                    session = s
                    minimumChunk = minimum
                }
            } catch let e as RegistryError where e.code == .unauthorized || e.code == .denied {
                // The account may push here but not pull from the other repository: upload instead.
            }
        }
        self.emit(.started(total: self.size))
        if resumedAt > 0 { tally.meter.settle(at: resumedAt) }
        while true {
            try Task.checkCancellation()
            do {
                if session == nil {
                    guard case .session(let s, let minimum) = try await self.client.startUpload(repository: self.repository) else {
                        throw RegistryError(.badResponse, "\(self.what): the registry answered a plain upload request as if it were a mount")
                    }
                    session = s
                    minimumChunk = minimum
                }
                do {
                    try await self.transmit(&session!, minimumChunk: minimumChunk, tally: &tally)
                } catch is Committed {
                    tally.meter.settle(at: self.size)
                }
                self.forget()
                self.emit(.finished)
                return .uploaded(sent: tally.sent, resumedAt: resumedAt, restarts: tally.restarts)
            } catch let restart as Restart {
                session = nil
                self.forget()
                tally.restarts += 1
                if restart.contentRefused {
                    tally.refusals += 1
                    // Once can be a session mixed up by a cut; twice means the source bytes are not the blob.
                    guard tally.refusals < 2 else {
                        throw RegistryError(.digestMismatch, "\(self.what): the registry found content that does not match the digest (\(restart.reason)); the source file \(self.file) is damaged: check it with ferry verify")
                    }
                }
                tally.meter.settle(at: 0)
                try await self.pause(&tally, reason: restart.reason, retryAfter: nil, last: RegistryError(.transfer, "\(self.what): \(restart.reason)"))
            }
        }
    }

    /// The cheap outcomes alone, for a source that must fetch the blob before sending it: `.skipped` when the
    /// repository has it, `.mounted` when `from` could lend it, nil when it has to be sent (`run`).
    public func skipOrMount(from: String?) async throws -> Outcome? {
        if try await self.client.hasBlob(repository: self.repository, digest: self.digest) {
            self.forget()
            self.emit(.skipped(total: self.size))
            return .skipped
        }
        guard let from else { return nil }
        do {
            // A registry that can't mount opens a session instead; it is left for the registry to purge.
            if case .mounted = try await self.client.startUpload(repository: self.repository, mount: (self.digest, from)) {
                self.emit(.mounted(total: self.size))
                return .mounted(from: from)
            }
        } catch let e as RegistryError where e.code == .unauthorized || e.code == .denied {}
        return nil
    }

    /// Goes on from a journaled session if the registry still knows it; returns the bytes it holds.
    private func resumeFromJournal(into session: inout UploadSession?) async throws -> Int64 {
        guard let journal = self.options.journal,
            let entry = journal.entry(registry: self.client.registry, repository: self.repository, digest: self.digest, size: self.size)
        else { return 0 }
        guard let current = try await self.client.uploadStatus(UploadSession(location: entry.location, offset: entry.offset), repository: self.repository),
            current.offset <= self.size
        else {
            // A PATCH cut half way left bytes the signed URL does not know of, or the registry purged the upload.
            self.forget()
            return 0
        }
        session = current
        return current.offset
    }

    func forget() {
        self.options.journal?.remove(registry: self.client.registry, repository: self.repository, digest: self.digest)
    }

    func emit(_ kind: ProgressEvent.Kind) {
        self.progress?(ProgressEvent(id: self.digest.description, kind: kind))
    }
}

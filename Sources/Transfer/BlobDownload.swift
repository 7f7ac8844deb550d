import Codec
import Glibc

/// Downloads one blob into a file, hashing as bytes stream in, and verifies size and sha256 at the end.
///
/// A connection lost part way continues with a `Range` request from the bytes already written (the hash state
/// is kept); a server that then answers 200 instead of 206 makes it start over. The caller renames the file into
/// its final place only after `run` returns.
public struct BlobDownload: Sendable {
    /// Fetches the blob, from `offset` when given (a `Range: bytes=offset-` request).
    public typealias Fetch = @Sendable (_ offset: Int64?) async throws -> (Response, ResponseBody)

    public var id: String
    public var expectedSHA256: String
    public var size: Int64
    public var path: String
    public var attempts: Int
    public var progress: ProgressHandler?
    /// Which failures of `fetch` are worth another attempt; transient network errors always are.
    public var isRetryable: @Sendable (any Error) -> Bool

    public init(
        id: String, expectedSHA256: String, size: Int64, path: String, attempts: Int = 5, progress: ProgressHandler? = nil,
        isRetryable: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) {
        self.isRetryable = isRetryable
        self.id = id
        self.expectedSHA256 = expectedSHA256
        self.size = size
        self.path = path
        self.attempts = attempts
        self.progress = progress
    }

    public func run(_ fetch: Fetch) async throws {
        let fd = open(self.path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TransferError(.io, "cannot create \(self.path): \(errnoString())") }
        defer { close(fd) }
        self.progress?(ProgressEvent(id: self.id, kind: .started(total: self.size)))
        var hasher = SHA256()
        var written: Int64 = 0
        var attempt = 0
        while true {
            do {
                try Task.checkCancellation()
                let (response, body) = try await fetch(written > 0 ? written : nil)
                if written > 0 && response.status != 206 {
                    // The server ignored Range: start over from its first byte.
                    guard ftruncate(fd, 0) == 0 else { throw TransferError(.io, "cannot truncate \(self.path): \(errnoString())") }
                    self.progress?(ProgressEvent(id: self.id, kind: .bytes(-written)))
                    written = 0
                    hasher = SHA256()
                }
                if response.status == 200, let length = response.contentLength, length != self.size {
                    body.cancel()
                    throw TransferError(.sizeMismatch, "blob \(self.id): the server says it has \(length) bytes, the manifest says \(self.size)")
                }
                for try await chunk in body {
                    if written + Int64(chunk.count) > self.size {
                        body.cancel()
                        throw TransferError(.sizeMismatch, "blob \(self.id): the server sent more than the \(self.size) bytes the manifest promises")
                    }
                    try writeAll(fd, chunk, at: written, path: self.path)
                    hasher.update(chunk)
                    written += Int64(chunk.count)
                    self.progress?(ProgressEvent(id: self.id, kind: .bytes(Int64(chunk.count))))
                }
                guard written == self.size else {
                    throw TransferError(.connectionLost, "blob \(self.id): connection ended after \(written) of \(self.size) bytes")
                }
                break
            } catch where attempt + 1 < self.attempts && ((error as? TransferError)?.isTransient ?? false || self.isRetryable(error)) {
                attempt += 1
                self.progress?(ProgressEvent(id: self.id, kind: .retried(attempt: attempt, reason: "\(error)")))
                try await Task.sleep(nanoseconds: UInt64(min(0.2 * Double(1 << attempt), 5) * 1e9))
            }
        }
        let actual = hasher.hexDigest()
        guard actual == self.expectedSHA256 else {
            throw TransferError(.digestMismatch, "blob \(self.id): downloaded content has digest sha256:\(actual), expected sha256:\(self.expectedSHA256)")
        }
        // Data reaches the disk before the caller renames it into place.
        guard fdatasync(fd) == 0 else { throw TransferError(.io, "cannot sync \(self.path): \(errnoString())") }
        self.progress?(ProgressEvent(id: self.id, kind: .finished))
    }
}

/// `pwrite` until every byte is written; ENOSPC becomes `.diskFull` with the path in the message.
func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws {
    try bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT {
                    throw TransferError(.diskFull, "disk full writing \(path): free some space, then run the same command again to resume")
                }
                throw TransferError(.io, "cannot write \(path): \(errnoString())")
            }
            done += n
        }
    }
}

func errnoString() -> String { String(cString: strerror(errno)) }

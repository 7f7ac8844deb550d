import Dispatch
import Foundation
import Glibc
import OCI

/// Batches the `.done` markers of verified blobs behind one `fdatasync` of the bundle: a marker must never outlive
/// its data in a power loss, and syncing each blob alone would cost a fifth of the save.
///
/// The sync runs on a queue of its own: an `fdatasync` of up to `batchBytes` of dirty data takes a good part of a
/// second, and on one of the two cooperative threads it would stall every download's writes and hashing meanwhile.
final class DoneMarker: @unchecked Sendable {
    private let state: BundleState
    private var pending: [Digest] = []
    private var pendingBytes: Int64 = 0
    private var lastFlush = Date()
    /// The first sync that failed: its batch got no markers, and the job must not report success.
    private var failure: MirrorError?
    private let lock = NSLock()
    private let queue = DispatchQueue(label: "ferry.done-marker")
    static let batchBytes: Int64 = 512 << 20
    static let batchSeconds: TimeInterval = 0.5

    init(state: BundleState) {
        self.state = state
    }

    /// `digest` is verified and all its bytes are written; it gets its marker with the next sync.
    func finished(_ digest: Digest, size: Int64) {
        let flushNow = self.lock.withLock { () -> Bool in
            self.pending.append(digest)
            self.pendingBytes += size
            return self.pendingBytes >= Self.batchBytes || Date().timeIntervalSince(self.lastFlush) >= Self.batchSeconds
        }
        if flushNow { self.queue.async { self.syncPending() } }
    }

    /// Syncs and marks what is pending now, and waits for any sync under way: before the job ends or gives up.
    /// Throws the first sync failure of the job, from this flush or an earlier batch.
    func flush() throws {
        self.queue.sync { self.syncPending() }
        if let failure = self.lock.withLock({ self.failure }) { throw failure }
    }

    private func syncPending() {
        let batch = self.lock.withLock { () -> [Digest] in
            defer { self.pending = []; self.pendingBytes = 0; self.lastFlush = Date() }
            return self.pending
        }
        guard !batch.isEmpty else { return }
        let fd = open(self.state.partial, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return self.failed("cannot open \(self.state.partial) to sync it") }
        let synced = fdatasync(fd) == 0
        let err = errno
        close(fd)
        guard synced else {
            errno = err
            return self.failed("cannot sync \(self.state.partial)")
        }
        // A marker that cannot be written costs only a re-fetch of that blob on resume.
        for digest in batch { _ = FileManager.default.createFile(atPath: self.state.donePath(digest.hex), contents: nil) }
    }

    /// Keeps the first failure (with `errno`'s reason); the blobs of a failed batch stay unmarked, to be fetched again.
    private func failed(_ what: String) {
        let error = MirrorError(.failed, "\(what): \(String(cString: strerror(errno)))")
        self.lock.withLock { if self.failure == nil { self.failure = error } }
    }
}

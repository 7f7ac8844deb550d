import Codec
import Foundation
import Glibc
import OCI
import Spawn
import Stores
import Transfer

/// A source whose blobs come by in one forward pass (a compressed archive without a frame index): the pusher asks
/// for them in stream order, and says first which it will ask for, so the pass spools only those and skips the
/// bytes of the rest (blobs the target already has).
public protocol SequentialPushSource: PushSource {
    /// Where the blob comes in the stream; lends should come in this order.
    func position(of digest: Digest) -> Int64
    /// Starts the pass that spools `blobs` (digest → lends to come), at most `window` spooled and not yet lent
    /// out to the end. Nothing is decompressed when `blobs` is empty.
    func start(lending blobs: [Digest: Int], window: Int)
    /// One lend announced to `start` will not come (the target had the blob after all).
    func release(_ digest: Digest)
}

extension PushSource {
    /// `items` in the order to ask for them: for a forward-only source, stream order, with the pass started for all
    /// of them (the archive is read one more time, not once per blob); for any other source, as they are.
    func orderedForLending<T>(_ items: [T], window: Int, digest: (T) -> Digest) -> [T] {
        guard let sequential = self as? any SequentialPushSource else { return items }
        let ordered = items.sorted { sequential.position(of: digest($0)) < sequential.position(of: digest($1)) }
        sequential.start(lending: Dictionary(ordered.map { (digest($0), 1) }, uniquingKeysWith: +), window: window)
        return ordered
    }
}

/// Pass 2 over a `StreamedArchive`: one thread decodes the archive once more, in order, and writes each blob a
/// push waits for into a spool file under `$XDG_STATE_HOME/ferry/spool/` (a plain layer gzip-compressed as pass 1
/// did, the rest copied), checks its digest and size, and hands it to the waiting upload. The thread waits while
/// `window` blobs are spooled and not uploaded yet, so disk use is the blobs in flight, and it stops reading once
/// the last wanted blob is out. A spool file whose upload failed stays, and the next run takes it (after hashing
/// it) instead of decompressing up to it again.
///
/// `@unchecked Sendable`: the mutable state is only touched with `condition` held.
final class StreamedBlobSource: SequentialPushSource, @unchecked Sendable {
    let base: ArchiveSource
    let archive: StreamedArchive
    let spool: String
    /// The blob each member holds, by the member's data offset.
    private let byMember: [Int64: StreamedArchive.Blob]

    /// Guards everything below; the pass thread waits on it for room in the window.
    private let condition = NSCondition()
    /// Lends still to come per blob.
    private var wanted: [Digest: Int] = [:]
    /// Spooled and checked, waiting for (or being read by) their uploads.
    private var ready: [Digest: String] = [:]
    private var waiters: [Digest: [CheckedContinuation<String, any Error>]] = [:]
    /// Blobs spooled or being spooled and not yet lent out to the end.
    private var inFlight = 0
    private var window = 1
    private var started = false
    /// The pass ended (all wanted blobs spooled, or failed): a lend for anything else reads the blob alone.
    private var over = false
    /// The last wanted blob, spooled: published only once the pass has stopped reading, so the command cannot end
    /// (its last upload waits for this blob) while the pass thread still reads the archive.
    private var last: (digest: Digest, path: String)?
    private var failure: (any Error)?

    var description: String { self.base.description }
    var fetchesOnDemand: Bool { true }

    init(base: ArchiveSource, archive: StreamedArchive, spool: String) {
        self.base = base
        self.archive = archive
        self.spool = spool
        self.byMember = Dictionary(archive.blobs.values.map { ($0.member, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func region(of digest: Digest) -> BlobRegion? { nil }

    func position(of digest: Digest) -> Int64 { self.archive.blob(digest)?.member ?? .max }

    func start(lending blobs: [Digest: Int], window: Int) {
        let wanted = blobs.filter { $0.value > 0 && self.archive.blob($0.key) != nil }
        self.condition.lock()
        guard !self.started else {
            self.condition.unlock()
            preconditionFailure("a streamed archive is read once per source")
        }
        self.started = true
        self.wanted = wanted
        self.window = max(1, window)
        self.over = wanted.isEmpty
        self.condition.unlock()
        guard !wanted.isEmpty else { return }
        DetachedThread.start { [self] in self.pass() }
    }

    func release(_ digest: Digest) {
        self.done(digest, keep: false)
    }

    func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T {
        guard let plan = self.archive.blob(blob.digest) else {
            throw MirrorError(.failed, "\(image): blob \(blob.digest) is not in \(self.description)")
        }
        guard plan.size == blob.size else {
            throw MirrorError(.failed, "\(self.description) is damaged: \(blob.digest) of \(image) is \(plan.size) bytes, its descriptor says \(blob.size)")
        }
        guard let path = try await self.spooled(blob.digest) else {
            // Not announced, or asked for again after the stream went past it (a mount refused after all):
            // read alone, one extra pass for this blob.
            let path = "\(self.spool)/\(blob.digest.hex).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).alone"
            defer { unlink(path) }
            try await offPool { [self] in
                PassTrace.note("extra pass of \(self.archive.file.path) for \(blob.digest)")
                try SpoolWriter.spool(plan, of: self.archive.file, to: path)
            }
            return try await body(BlobRegion(path: path, offset: 0, size: blob.size, verified: true))
        }
        do {
            // Verified: `SpoolWriter` checked what it wrote, and a spool left by an earlier run was re-hashed (`reserve`).
            let result = try await body(BlobRegion(path: path, offset: 0, size: blob.size, verified: true))
            self.done(blob.digest, keep: false)
            return result
        } catch {
            self.done(blob.digest, keep: true)
            throw error
        }
    }

    /// Waits for the pass to spool `digest`; nil when the pass will not bring it.
    private func spooled(_ digest: Digest) async throws -> String? {
        struct NotComing: Error {}
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
                    self.condition.lock()
                    if let failure = self.failure {
                        self.condition.unlock()
                        continuation.resume(throwing: failure)
                    } else if let path = self.ready[digest] {
                        self.condition.unlock()
                        continuation.resume(returning: path)
                    } else if (self.wanted[digest] ?? 0) > 0 && !self.over {
                        self.waiters[digest, default: []].append(continuation)
                        self.condition.unlock()
                    } else {
                        self.condition.unlock()
                        continuation.resume(throwing: NotComing())
                    }
                }
            } onCancel: {
                // The push is stopping: stop the pass too, so its thread does not wait for room forever.
                self.fail(CancellationError())
            }
        } catch is NotComing {
            return nil
        }
    }

    /// One lend of `digest` ended (or will not come): the last one frees its place in the window.
    private func done(_ digest: Digest, keep: Bool) {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard let count = self.wanted[digest], count > 0 else { return }
        self.wanted[digest] = count - 1
        guard count == 1 else { return }
        if let path = self.ready.removeValue(forKey: digest) {
            if !keep { unlink(path) }
            self.inFlight -= 1
            self.condition.broadcast()
        }
    }

    private func fail(_ error: any Error) {
        self.condition.lock()
        if self.failure == nil { self.failure = error }
        self.over = true
        let waiters = self.waiters
        self.waiters = [:]
        self.condition.broadcast()
        self.condition.unlock()
        for continuation in waiters.values.joined() { continuation.resume(throwing: error) }
    }

    // MARK: The pass (its own thread)

    private func pass() {
        do {
            _ = try self.archive.file.readForward(pass: 2, visitor: SpoolVisitor(source: self))
            self.condition.lock()
            self.over = true
            let last = self.last
            let waiting = last.map { self.publishLocked($0.digest, at: $0.path) } ?? []
            self.last = nil
            // Wanted blobs the stream did not bring (the archive changed since pass 1): their lends fail.
            let left = self.waiters
            self.waiters = [:]
            self.condition.unlock()
            for continuation in waiting { continuation.resume(returning: last!.path) }
            let error = MirrorError(.failed, "\(self.archive.file.path) changed since it was first read: a blob is no longer where it was; run the command again")
            for continuation in left.values.joined() { continuation.resume(throwing: error) }
        } catch {
            self.fail(error)
        }
    }

    /// Which blob a member holds, if one still wanted: waits for room in the window first.
    fileprivate func reserve(_ entry: TarReader.Entry) throws -> (StreamedArchive.Blob, existing: String?)? {
        guard let blob = self.byMember[entry.dataOffset] else { return nil }
        self.condition.lock()
        guard (self.wanted[blob.digest] ?? 0) > 0, self.ready[blob.digest] == nil else {
            self.condition.unlock()
            return nil
        }
        while self.inFlight >= self.window && self.failure == nil { self.condition.wait() }
        if let failure = self.failure {
            self.condition.unlock()
            throw failure
        }
        self.inFlight += 1
        self.condition.unlock()
        // Outside the lock: re-hashing a leftover spool file may take seconds, and lends wait on this lock.
        let path = "\(self.spool)/\(blob.digest.hex)"
        return (blob, fileHolds(path, digest: blob.digest, size: blob.size) ? path : nil)
    }

    /// A blob is spooled and checked: its uploads may go (the last one once the pass has stopped reading). True
    /// when no wanted blob is left to spool.
    fileprivate func spooled(_ digest: Digest, at path: String) -> Bool {
        self.condition.lock()
        let left = self.wanted.contains { $0.value > 0 && self.ready[$0.key] == nil && $0.key != digest }
        if !left {
            self.last = (digest, path)
            self.condition.unlock()
            return true
        }
        let waiting = self.publishLocked(digest, at: path)
        self.condition.unlock()
        for continuation in waiting { continuation.resume(returning: path) }
        return false
    }

    /// Makes a spooled blob available to lends; returns the lends already waiting for it, to resume once `condition`
    /// is unlocked. Call with `condition` held.
    private func publishLocked(_ digest: Digest, at path: String) -> [CheckedContinuation<String, any Error>] {
        self.ready[digest] = path
        return self.waiters.removeValue(forKey: digest) ?? []
    }

    /// A spool file failed: give its place back.
    fileprivate func abandoned() {
        self.condition.lock()
        self.inFlight -= 1
        self.condition.broadcast()
        self.condition.unlock()
    }
}

/// Pass 2's work on each member as it streams by.
private final class SpoolVisitor: TarMemberVisitor {
    unowned let source: StreamedBlobSource
    private var writer: SpoolWriter?
    private var digest: Digest?

    init(source: StreamedBlobSource) {
        self.source = source
    }

    func begin(_ entry: TarReader.Entry) throws -> Bool {
        guard let (blob, existing) = try self.source.reserve(entry) else { return false }
        if let existing {
            // Spooled by an earlier run whose upload did not finish: its bytes are skipped.
            if self.source.spooled(blob.digest, at: existing) { throw CompressedTarFile.StopReading() }
            return false
        }
        do {
            try FileManager.default.createDirectory(atPath: self.source.spool, withIntermediateDirectories: true)
            self.writer = try SpoolWriter(blob, path: "\(self.source.spool)/\(blob.digest.hex)")
        } catch {
            self.source.abandoned()
            throw error
        }
        self.digest = blob.digest
        return true
    }

    func data(_ bytes: UnsafeRawBufferPointer) throws {
        do { try self.writer?.write(bytes) } catch {
            self.writer?.discard()
            self.source.abandoned()
            throw error
        }
    }

    func end() throws {
        guard let writer = self.writer, let digest = self.digest else { return }
        self.writer = nil
        do {
            try writer.finish(archive: self.source.archive.file.path)
        } catch {
            writer.discard()
            self.source.abandoned()
            throw error
        }
        if self.source.spooled(digest, at: writer.path) { throw CompressedTarFile.StopReading() }
    }
}

/// One blob into a spool file: a `.partial` beside it, renamed to `path` only once size and digest are right.
final class SpoolWriter {
    let blob: StreamedArchive.Blob
    let path: String
    private let partial: String
    private let fd: Int32
    private let encoder: ParallelGzipEncoder?
    private var hasher = SHA256()
    private var written: Int64 = 0

    init(_ blob: StreamedArchive.Blob, path: String) throws {
        self.blob = blob
        self.path = path
        self.partial = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"
        self.fd = open(self.partial, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard self.fd >= 0 else { throw MirrorError(.failed, "cannot create \(self.partial): \(String(cString: strerror(errno)))") }
        self.encoder = blob.compress ? try ParallelGzipEncoder(options: DockerArchive.gzip) : nil
    }

    deinit { close(self.fd) }

    /// One blob alone, its member decoded from the start of `file` (or from its frame, with a frame index): the
    /// fallback for a blob pass 2 did not bring, and how a compressed archive lends a blob.
    static func spool(_ blob: StreamedArchive.Blob, of file: CompressedTarFile, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let writer = try SpoolWriter(blob, path: path)
        do {
            try file.read(from: blob.member, count: blob.memberSize) { try writer.write($0) }
            try writer.finish(archive: file.path)
        } catch let e as StoreError {
            writer.discard()
            throw MirrorError(.failed, e.message)
        } catch {
            writer.discard()
            throw error
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let encoder = self.encoder {
            try encoder.encode(bytes) { try self.out($0.bytes) }
        } else {
            try self.out(bytes)
        }
    }

    func finish(archive: String) throws {
        try self.encoder?.finish { try self.out($0.bytes) }
        guard self.written == self.blob.size, self.hasher.hexDigest() == self.blob.digest.hex else {
            let what = self.blob.compress ? "compressing the layer at tar byte \(self.blob.member) again gave" : "the member at tar byte \(self.blob.member) is"
            throw MirrorError(.failed, "\(archive): \(what) sha256:\(self.hasher.hexDigest()) (\(self.written) bytes), not \(self.blob.digest) (\(self.blob.size) bytes); the archive is damaged or changed since it was first read")
        }
        guard rename(self.partial, self.path) == 0 else {
            throw MirrorError(.failed, "cannot move \(self.partial) to \(self.path): \(String(cString: strerror(errno)))")
        }
    }

    func discard() { unlink(self.partial) }

    private func out(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try self.out($0) }
    }

    private func out(_ bytes: UnsafeRawBufferPointer) throws {
        self.hasher.update(bytes)
        try writeAll(self.fd, bytes, at: self.written, path: self.partial)
        self.written += Int64(bytes.count)
    }
}

import Codec
import Foundation
import Glibc
import Stores
import Transfer

/// The resumable state of a compressed `save` (`BUNDLE.tar.zst` / `.tar.gz`): `BUNDLE.partial` holds the whole frames
/// written so far, and `BUNDLE.partial.ferry/` the plan's fingerprint, the log of durable frame ends (`frames`: 16
/// bytes each, content end then output end, little-endian u64), and the blobs staged for the writer (`<hex>.blob`
/// verified, `<hex>.partial` downloading, with its journal). A compressed offset depends on everything before it, so
/// the tar cannot be filled in place: it is written in order, and a resumed save continues after the last frame the
/// log records.
struct CompressedBundleState {
    let files: PartialBundle
    var output: String { self.files.output }
    var partial: String { self.files.partial }
    var directory: String { self.files.directory }
    var framesPath: String { self.directory + "/frames" }

    init(output: String) { self.files = PartialBundle(output: output) }

    func stagedPath(_ hex: String) -> String { "\(self.directory)/\(hex).blob" }
    func stagingPath(_ hex: String) -> String { "\(self.directory)/\(hex).partial" }

    /// Starts over, or keeps what an earlier run of the same plan left: returns the frame ends to continue after, with
    /// the partial file cut back to the last of them (a frame being written at the kill is dropped).
    func prepare(_ plan: BundlePlan, format: CompressionFormat) throws -> [FrameBoundary] {
        let fingerprint = "\(format)\n" + plan.fingerprint
        let resume = self.files.hasFingerprint(fingerprint)
        if !resume { self.files.startOver() }
        try self.files.makeStateDirectory()
        let fd = open(self.partial, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot create \(self.partial): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var frames: [FrameBoundary] = []
        if resume {
            var st = stat()
            let size = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
            var last = FrameBoundary(contentOffset: 0, outputOffset: 0)
            for f in Self.readFrames(self.framesPath) {
                // Only increasing ends that lie inside the file count; anything after a bad record is dropped.
                guard f.contentOffset > last.contentOffset, f.outputOffset > last.outputOffset, f.outputOffset <= size,
                    f.contentOffset <= plan.archiveSize
                else { break }
                frames.append(f)
                last = f
            }
        }
        guard ftruncate(fd, off_t(frames.last?.outputOffset ?? 0)) == 0 else {
            throw MirrorError(.failed, "cannot truncate \(self.partial): \(String(cString: strerror(errno)))")
        }
        try writeAtomically(Array(Self.encode(frames)), to: self.framesPath)
        if !resume { try self.files.writeFingerprint(fingerprint) }
        return frames
    }

    /// Appends the frame index after the last frame, syncs, moves the bundle into place and drops the state.
    /// - Returns: the bundle's size.
    func finish(index: FrameIndex, format: CompressionFormat) throws -> Int64 {
        let fd = open(self.partial, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot open \(self.partial): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = index.encoded(format)
        let size = index.dataSize + Int64(bytes.count)
        try writeAll(fd, bytes, at: index.dataSize, path: self.partial)
        guard ftruncate(fd, off_t(size)) == 0 else {
            throw MirrorError(.failed, "cannot finish \(self.partial): \(String(cString: strerror(errno)))")
        }
        try self.files.moveIntoPlace(syncing: fd)
        return size
    }

    static func readFrames(_ path: String) -> [FrameBoundary] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let bytes = [UInt8](data)
        var out: [FrameBoundary] = []
        // A torn last record (killed mid-write) is ignored.
        for at in stride(from: 0, to: bytes.count - 15, by: 16) {
            out.append(FrameBoundary(
                contentOffset: Int64(bitPattern: bytes.loadLE(UInt64.self, at: at)),
                outputOffset: Int64(bitPattern: bytes.loadLE(UInt64.self, at: at + 8))))
        }
        return out
    }

    static func encode(_ frames: [FrameBoundary]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(frames.count * 16)
        for f in frames {
            out.appendLE(UInt64(f.contentOffset))
            out.appendLE(UInt64(f.outputOffset))
        }
        return out
    }
}

import Foundation
import Glibc
import Stores
import Transfer

/// The resumable state of a `save` in progress: `BUNDLE.partial` (the planned tar, filled in place) and beside it
/// `BUNDLE.partial.ferry/` with the plan's fingerprint, one journal per blob in progress, and a `.done` marker per
/// verified blob. The plan fingerprint holds the resolved digests, so a tag moved upstream starts a new bundle.
struct BundleState {
    let files: PartialBundle
    var output: String { self.files.output }
    var partial: String { self.files.partial }
    var directory: String { self.files.directory }

    init(output: String) { self.files = PartialBundle(output: output) }

    func journalPath(_ hex: String) -> String { "\(self.directory)/\(hex).journal" }
    func donePath(_ hex: String) -> String { "\(self.directory)/\(hex).done" }

    /// True when an earlier run left a partial bundle laid out exactly like `plan`.
    func canResume(_ plan: BundlePlan) -> Bool {
        guard self.files.hasFingerprint(plan.fingerprint) else { return false }
        var st = stat()
        return stat(self.partial, &st) == 0 && Int64(st.st_size) == plan.archiveSize
    }

    /// Lays the tar out: removes stale state, checks free space, preallocates, writes every header, every small
    /// member and the end-of-archive blocks. Idempotent: a resumed save writes the same bytes again.
    func prepare(_ plan: BundlePlan, resume: Bool) throws {
        if !resume {
            self.files.startOver()
            try Self.checkFreeSpace(for: plan.archiveSize, at: self.partial)
        }
        try self.files.makeStateDirectory()
        let fd = open(self.partial, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot create \(self.partial): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if !resume { try preallocate(fd, plan.archiveSize, path: self.partial) }
        for member in plan.members {
            try writeAll(fd, member.header.encode(), at: member.offset, path: self.partial)
            if let content = member.content {
                try writeAll(fd, content, at: member.dataOffset, path: self.partial)
                let pad = Int(member.header.paddedSize) - content.count
                if pad > 0 { try writeAll(fd, [UInt8](repeating: 0, count: pad), at: member.dataOffset + Int64(content.count), path: self.partial) }
            }
        }
        try writeAll(fd, [UInt8](repeating: 0, count: 1024), at: plan.size, path: self.partial)
        _ = fdatasync(fd)
        if !resume { try self.files.writeFingerprint(plan.fingerprint) }
    }

    /// Moves the verified bundle into place and drops the state.
    func finish() throws {
        let fd = open(self.partial, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MirrorError(.failed, "cannot open \(self.partial): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try self.files.moveIntoPlace(syncing: fd)
    }

    static func checkFreeSpace(for bytes: Int64, at path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard let attrs = try? FileManager.default.attributesOfFileSystem(forPath: dir.isEmpty ? "." : dir),
            let free = (attrs[.systemFreeSize] as? NSNumber)?.int64Value
        else { return }
        if free < bytes {
            throw MirrorError(.failed, "the bundle needs \(bytes >> 20) MiB but only \(free >> 20) MiB are free in \(dir.isEmpty ? "." : dir): free some space or write elsewhere")
        }
    }
}

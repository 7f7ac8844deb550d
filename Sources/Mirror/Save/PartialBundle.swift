import Foundation
import Glibc
import Stores

/// Where a save in progress lives, plain or compressed: `BUNDLE.partial` (the file being written) and beside it
/// `BUNDLE.partial.ferry/` (its state, starting with the plan's fingerprint). Nothing is at `BUNDLE` until the
/// finished file is made durable and renamed there.
struct PartialBundle {
    let output: String
    var partial: String { self.output + ".partial" }
    var directory: String { self.output + ".partial.ferry" }
    var fingerprintPath: String { self.directory + "/plan" }

    /// True when the state left by an earlier run is for the plan `fingerprint` names.
    func hasFingerprint(_ fingerprint: String) -> Bool {
        FileManager.default.contents(atPath: self.fingerprintPath).map { String(decoding: $0, as: UTF8.self) == fingerprint } ?? false
    }

    /// Makes the state directory beside the output. The output's own directory must exist already: a missing one is
    /// more often a drive that is not mounted than a wish, and creating it would fill the disk underneath.
    func makeStateDirectory() throws {
        let parent = (self.output as NSString).deletingLastPathComponent
        let dir = parent.isEmpty ? "." : parent
        var st = stat()
        guard stat(dir, &st) == 0 else {
            throw MirrorError(.failed, "cannot write \(self.output): \(dir): \(String(cString: strerror(errno))); create the directory first (on a removable drive: is it mounted?)")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw MirrorError(.failed, "cannot write \(self.output): \(dir) is not a directory") }
        guard mkdir(self.directory, 0o755) == 0 || errno == EEXIST else {
            throw MirrorError(.failed, "cannot write \(self.output): cannot create \(self.directory): \(String(cString: strerror(errno))); write to a directory you can write to")
        }
    }

    /// Drops what an earlier run left (another plan's, or nothing to resume).
    func startOver() {
        try? FileManager.default.removeItem(atPath: self.directory)
        try? FileManager.default.removeItem(atPath: self.partial)
    }

    func writeFingerprint(_ fingerprint: String) throws {
        try writeAtomically(Array(fingerprint.utf8), to: self.fingerprintPath)
    }

    /// Syncs `fd` (the partial file), renames it to the output and drops the state: a bundle at its final path
    /// survives a power loss whole.
    func moveIntoPlace(syncing fd: Int32) throws {
        guard fsync(fd) == 0 else { throw MirrorError(.failed, "cannot sync \(self.partial): \(String(cString: strerror(errno)))") }
        guard rename(self.partial, self.output) == 0 else {
            throw MirrorError(.failed, "cannot move \(self.partial) to \(self.output): \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

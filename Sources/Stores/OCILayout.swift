import Codec
import Foundation
import Glibc
import OCI

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as image-spec
/// `image-layout.md` defines it.
///
/// Only verified content reaches `blobs/`: writers fill a temporary file under `.ferry/tmp/` and `commit` renames
/// it into place once its digest checks out. `index.json` is replaced atomically (temp file, then rename).
public struct OCILayout: Sendable {
    public let root: String

    /// Opens the layout at `root`, creating it (and `oci-layout`) when missing.
    public init(creatingAt root: String) throws(StoreError) {
        self.root = root
        for dir in [root, root + "/blobs/sha256", self.stateDirectory + "/tmp"] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw StoreError(.io, "cannot create \(dir): \(error.localizedDescription)")
            }
        }
        let marker = root + "/oci-layout"
        if !FileManager.default.fileExists(atPath: marker) {
            try writeAtomically(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: marker, temporaryDirectory: self.stateDirectory + "/tmp")
        }
    }

    /// Opens an existing layout for reading.
    public init(existingAt root: String) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: root + "/oci-layout") else {
            throw StoreError(.notFound, "\(root) is not an OCI image layout (no oci-layout file)")
        }
        self.root = root
    }

    /// Ferry's own state beside the layout: partial downloads and their journals.
    public var stateDirectory: String { self.root + "/.ferry" }

    public func blobPath(_ digest: Digest) -> String {
        "\(self.root)/blobs/\(digest.algorithm)/\(digest.hex)"
    }

    /// Where a blob is written before it is verified.
    public func temporaryPath(_ digest: Digest) -> String {
        "\(self.stateDirectory)/tmp/\(digest.hex).partial"
    }

    /// True when the blob is in place with the expected size. Blobs only land verified, so size suffices here;
    /// `ferry verify` re-hashes everything.
    public func hasBlob(_ descriptor: Descriptor) -> Bool {
        var st = stat()
        return stat(self.blobPath(descriptor.digest), &st) == 0 && Int64(st.st_size) == descriptor.size
    }

    /// The list of blobs that may reach `blobs/` before their data is synced (see `beginUnsynced`).
    var unsyncedListPath: String { self.stateDirectory + "/unsynced" }

    /// Records, durably and before any of them lands, the blobs a job is about to place without syncing each.
    ///
    /// Syncing every blob costs a fifth of a loopback copy and buys nothing while the machine stays up: the page
    /// cache holds verified bytes and the kernel writes them back. Only a crash can lose them, and a crash means a
    /// reboot, so `recheckUnsynced` re-hashes the listed blobs when the machine booted after the list was written.
    public func beginUnsynced(_ digests: [Digest]) throws(StoreError) {
        self.recheckUnsynced()
        let text = digests.map(\.hex).joined(separator: "\n") + "\n"
        try writeAtomically(Array(text.utf8), to: self.unsyncedListPath, temporaryDirectory: self.stateDirectory + "/tmp")
    }

    /// Handles a list left by an earlier job: dropped when the machine has not rebooted since (its blobs are in the
    /// page cache or on disk), else every listed blob in place is re-hashed and deleted if it does not match.
    /// Returns how many were deleted.
    @discardableResult
    public func recheckUnsynced() -> Int {
        var st = stat()
        guard stat(self.unsyncedListPath, &st) == 0 else { return 0 }
        defer { unlink(self.unsyncedListPath) }
        guard let boot = Self.bootTime(), Int(st.st_mtim.tv_sec) < boot,
            let data = FileManager.default.contents(atPath: self.unsyncedListPath)
        else { return 0 }
        var removed = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let digest = try? Digest(sha256Hex: String(line)) else { continue }
            let path = self.blobPath(digest)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            if (try? Self.sha256(ofFile: path)) != digest.hex {
                unlink(path)
                removed += 1
            }
        }
        return removed
    }

    /// When the machine booted (`btime` in /proc/stat), in seconds since 1970.
    static func bootTime() -> Int? {
        guard let data = FileManager.default.contents(atPath: "/proc/stat") else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("btime ") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    static func sha256(ofFile path: String) throws(StoreError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "cannot open \(path)") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        return try hashRegion(fd, offset: 0, size: Int64(st.st_size), what: path)
    }

    /// Moves a verified temporary file to its final place.
    public func commit(temporary: String, as digest: Digest) throws(StoreError) {
        guard rename(temporary, self.blobPath(digest)) == 0 else {
            throw StoreError(.io, "cannot move \(temporary) into \(self.blobPath(digest)): \(String(cString: strerror(errno)))")
        }
    }

    /// Stores small content (manifests, configs) after checking it has `digest`.
    public func writeBlob(_ bytes: [UInt8], digest: Digest) throws(StoreError) {
        let actual = SHA256.hexDigest(bytes)
        guard actual == digest.hex else {
            throw StoreError(.digestMismatch, "content for \(digest) has digest sha256:\(actual)")
        }
        try writeAtomically(bytes, to: self.blobPath(digest), temporaryDirectory: self.stateDirectory + "/tmp")
    }

    public func readBlob(_ digest: Digest) throws(StoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: self.blobPath(digest)) else {
            throw StoreError(.notFound, "blob \(digest) is missing from \(self.root)")
        }
        return [UInt8](data)
    }

    /// The layout's `index.json`; an empty index when there is none yet.
    public func index() throws(StoreError) -> ImageIndex {
        let path = self.root + "/index.json"
        guard let data = FileManager.default.contents(atPath: path) else { return ImageIndex(mediaType: .ociIndex, manifests: []) }
        do {
            return try JSONDecoder().decode(ImageIndex.self, from: data)
        } catch {
            throw StoreError(.corrupt, "\(path) is not a valid OCI index: \(error)")
        }
    }

    /// Adds `descriptor` to `index.json` under the names in its annotations, replacing entries with the same
    /// `org.opencontainers.image.ref.name`. Serialised across processes with a lock file.
    public func addToIndex(_ descriptor: Descriptor) throws(StoreError) {
        try self.withLock { () throws(StoreError) in
            var index = try self.index()
            let name = descriptor.annotations?[AnnotationKey.refName]
            index.manifests.removeAll { existing in
                name != nil && existing.annotations?[AnnotationKey.refName] == name
            }
            index.manifests.append(descriptor)
            index.schemaVersion = 2
            index.mediaType = .ociIndex
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let bytes: [UInt8]
            do { bytes = Array(try encoder.encode(index)) } catch { throw StoreError(.io, "cannot encode index.json: \(error)") }
            try writeAtomically(bytes, to: self.root + "/index.json", temporaryDirectory: self.stateDirectory + "/tmp")
        }
    }

    private func withLock<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        let path = self.stateDirectory + "/lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw StoreError(.io, "cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

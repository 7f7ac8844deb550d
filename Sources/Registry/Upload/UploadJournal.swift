import Codec
import Foundation
import Glibc
import OCI

/// Where partly uploaded blobs are remembered between runs: one small JSON file per (registry, repository, blob)
/// holding the newest upload URL and the bytes the registry had acknowledged, written after every finished PATCH
/// and removed once the blob is committed.
///
/// It lives under `$XDG_STATE_HOME/ferry/uploads/` (default `~/.local/state/ferry/uploads/`), never beside the
/// source: a bundle may be on read-only media. Only what the registry handed out is kept (the upload URL, whose
/// signed state the registry checks); credentials and tokens are never written.
public struct UploadJournal: Sendable {
    /// One blob's upload as last acknowledged.
    public struct Entry: Sendable, Hashable, Codable {
        public var version = 1
        public var registry: String
        public var repository: String
        public var digest: String
        public var size: Int64
        public var location: String
        public var offset: Int64
    }

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// `$XDG_STATE_HOME/ferry/uploads`, else `$HOME/.local/state/ferry/uploads` (XDG base directory spec).
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return state + "/ferry/uploads"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/ferry/uploads"
    }

    /// The entry for a blob, if a previous run left one that still describes it.
    public func entry(registry: String, repository: String, digest: Digest, size: Int64) -> Entry? {
        guard let data = FileManager.default.contents(atPath: self.path(registry, repository, digest)),
            let entry = try? JSONDecoder().decode(Entry.self, from: data),
            entry.version == 1, entry.registry == registry, entry.repository == repository,
            entry.digest == digest.description, entry.size == size, entry.offset >= 0, entry.offset <= size
        else { return nil }
        return entry
    }

    /// Records the session after a finished PATCH: a temporary file renamed over the old one, so a kill leaves
    /// either the previous entry or this one. No fsync: after a power loss a stale entry is caught by the
    /// registry (`BLOB_UPLOAD_INVALID`) and the blob starts again.
    public func record(registry: String, repository: String, digest: Digest, size: Int64, session: UploadSession) throws {
        let entry = Entry(
            registry: registry, repository: repository, digest: digest.description, size: size,
            location: Self.withoutUserInfo(session.location), offset: session.offset)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(entry)
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let path = self.path(registry, repository, digest)
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: data), rename(temp, path) == 0 else {
            throw RegistryError(.usage, "cannot write the upload journal \(path): \(String(cString: strerror(errno))); check that \(self.directory) is writable (or set XDG_STATE_HOME)")
        }
    }

    /// Forgets a blob: it was committed, or the registry no longer knows its upload.
    public func remove(registry: String, repository: String, digest: Digest) {
        unlink(self.path(registry, repository, digest))
    }

    /// One file per blob and target, named by a hash so any registry or repository name makes a safe file name.
    func path(_ registry: String, _ repository: String, _ digest: Digest) -> String {
        "\(self.directory)/\(SHA256.hexDigest(Array("\(registry)/\(repository)@\(digest)".utf8))).json"
    }

    /// Upload URLs carry no credentials, but a `user:pass@` in one would be written to disk: drop it.
    static func withoutUserInfo(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }
}

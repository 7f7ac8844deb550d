import Codec
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// `write` alone would resolve to our own method inside `BlobFile`.
#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif

/// Writes one blob into `blobs/sha256/` of a layout: bytes go to a temporary file while being hashed, and the
/// file is renamed to its digest at the end, so a digest-named file is always complete.
struct BlobFile {
    private let directory: URL
    private let temporary: URL
    private var descriptor: Int32
    private var hash = SHA256()
    private(set) var size = 0

    /// - Parameter directory: the layout's `blobs/sha256` directory.
    init(in directory: URL) throws {
        self.directory = directory
        self.temporary = directory.appendingPathComponent(".tmp-" + UUID().uuidString)
        self.descriptor = open(self.temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard self.descriptor >= 0 else {
            throw TestSupportError("cannot create \(self.temporary.path): errno \(errno)")
        }
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.hash.update(bytes)
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(self.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                self.discard()
                throw TestSupportError("writing \(self.temporary.path) failed: errno \(code)")
            }
            offset += written
        }
        self.size += bytes.count
    }

    mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try self.write($0) }
    }

    /// Closes the file and moves it to `blobs/sha256/<hex>`; returns the digest (`sha256:<hex>`).
    mutating func commit() throws -> String {
        let hex = self.hash.hexDigest()
        close(self.descriptor)
        self.descriptor = -1
        let final = self.directory.appendingPathComponent(hex)
        // rename(2) replaces an existing file atomically; identical content makes that harmless.
        guard rename(self.temporary.path, final.path) == 0 else {
            let code = errno
            unlink(self.temporary.path)
            throw TestSupportError("cannot rename blob to \(final.path): errno \(code)")
        }
        return "sha256:" + hex
    }

    /// Drops the temporary file after a failure.
    mutating func discard() {
        if self.descriptor >= 0 {
            close(self.descriptor)
            self.descriptor = -1
        }
        unlink(self.temporary.path)
    }

    /// Writes a small blob in one go.
    static func write(_ bytes: [UInt8], in directory: URL) throws -> String {
        var file = try BlobFile(in: directory)
        try file.write(bytes)
        return try file.commit()
    }
}

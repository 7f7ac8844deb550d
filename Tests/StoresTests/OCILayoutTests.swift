import Codec
import Foundation
import OCI
import Stores
import TestSupport
import Testing

@Suite struct OCILayoutTests {
    func layoutWithBlobs() throws -> (TemporaryDirectory, OCILayout, good: Digest, bad: Digest) {
        let dir = try TemporaryDirectory()
        let layout = try OCILayout(creatingAt: dir.path + "/l")
        let goodBytes = Array("good".utf8), badBytes = Array("bad".utf8)
        let good = try Digest(sha256Hex: SHA256.hexDigest(goodBytes))
        let bad = try Digest(sha256Hex: SHA256.hexDigest(badBytes))
        try layout.writeBlob(goodBytes, digest: good)
        try layout.writeBlob(badBytes, digest: bad)
        return (dir, layout, good, bad)
    }

    @Test("blobs listed as unsynced are re-hashed after a reboot, and a damaged one is deleted")
    func recheckAfterReboot() throws {
        let (dir, layout, good, bad) = try self.layoutWithBlobs()
        defer { dir.remove() }
        try layout.beginUnsynced([good, bad])
        // What a power loss leaves: the renamed file with the wrong bytes, and the list from before the boot.
        try Data("lost".utf8).write(to: URL(fileURLWithPath: layout.blobPath(bad)))
        let list = layout.stateDirectory + "/unsynced"
        var times = [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]
        #expect(utimes(list, &times) == 0)
        #expect(layout.recheckUnsynced() == 1)
        #expect(FileManager.default.fileExists(atPath: layout.blobPath(good)))
        #expect(!FileManager.default.fileExists(atPath: layout.blobPath(bad)))
        #expect(!FileManager.default.fileExists(atPath: list))
    }

    @Test("without a reboot since, the list is dropped and nothing is re-read")
    func noRebootNoRecheck() throws {
        let (dir, layout, good, bad) = try self.layoutWithBlobs()
        defer { dir.remove() }
        try layout.beginUnsynced([good, bad])
        #expect(layout.recheckUnsynced() == 0)
        #expect(FileManager.default.fileExists(atPath: layout.blobPath(bad)))
        #expect(!FileManager.default.fileExists(atPath: layout.stateDirectory + "/unsynced"))
    }
}

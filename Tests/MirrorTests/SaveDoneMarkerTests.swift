import Foundation
import OCI
import TestSupport
import Testing

@testable import Mirror

/// `.done` markers are written only behind a successful sync, and a failed sync fails the job.
@Suite struct SaveDoneMarkerTests {
    static let digest = try! Digest(sha256Hex: String(repeating: "ab", count: 32))

    @Test("a batch whose sync cannot happen gets no marker, and flush throws instead of reporting success")
    func failedSyncThrows() throws {
        let dir = try TemporaryDirectory()
        // No BUNDLE.partial to open: the sync of the batch fails.
        let state = BundleState(output: dir.appending("missing/b.tar").path)
        let marker = DoneMarker(state: state)
        marker.finished(Self.digest, size: 10)
        #expect(throws: MirrorError.self) { try marker.flush() }
        #expect(!FileManager.default.fileExists(atPath: state.donePath(Self.digest.hex)))
        // The failure stays: a later flush with nothing pending still reports it.
        #expect(throws: MirrorError.self) { try marker.flush() }
    }

    @Test("a batch that syncs gets its markers and flush succeeds")
    func syncedBatchMarks() throws {
        let dir = try TemporaryDirectory()
        let state = BundleState(output: dir.appending("b.tar").path)
        try FileManager.default.createDirectory(atPath: state.directory, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: state.partial, contents: Data([1, 2, 3])))
        let marker = DoneMarker(state: state)
        marker.finished(Self.digest, size: 3)
        try marker.flush()
        #expect(FileManager.default.fileExists(atPath: state.donePath(Self.digest.hex)))
    }
}

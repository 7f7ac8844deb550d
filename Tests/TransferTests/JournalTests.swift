import Foundation
import TestSupport
import Testing
@testable import Transfer

/// The journal beside a partial file: kept only when it describes exactly this blob and this file.
@Suite struct JournalTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    static let plan = ChunkPlan(size: 10 * 1000 + 7, chunkSize: 1000)  // 11 chunks, the last one 7 bytes

    /// A data file of `size` bytes and the journal path beside it.
    static func files(size: Int64 = plan.size) throws -> (TemporaryDirectory, String, String) {
        let dir = try TemporaryDirectory(prefix: "ferry-journal-")
        let data = dir.appending("blob.partial").path
        FileManager.default.createFile(atPath: data, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: data))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return (dir, data, data + ".journal")
    }

    static func open(_ journal: String, _ data: String, plan: ChunkPlan = plan, digest: String = digest) throws -> Journal {
        try Journal(path: journal, plan: plan, digest: digest, dataPath: data)
    }

    static func expectFresh(_ j: Journal, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(j.doneCount == 0, "a journal that does not match is discarded, not trusted", sourceLocation: sourceLocation)
    }

    @Test("round trip: marked chunks survive closing and opening again (no sync needed)")
    func roundTrip() throws {
        let (dir, data, path) = try Self.files()
        defer { dir.remove() }
        do {
            let j = try Self.open(path, data)
            #expect(j.doneCount == 0)
            for chunk in [0, 3, 8, 9, 10] { try j.mark(chunk) }
            #expect(j.isDone(3) && !j.isDone(4))
        }
        let again = try Self.open(path, data)
        #expect((0..<Self.plan.count).filter { again.isDone($0) } == [0, 3, 8, 9, 10])
        #expect(again.doneCount == 5)
        // The file is the header plus one bit per chunk, nothing more.
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(bytes.starts(with: Array("FERRYJNL".utf8)))
        #expect(bytes.count == 8 + 2 + 8 + 8 + 2 + Self.digest.utf8.count + (Self.plan.count + 7) / 8)
        again.remove()
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a journal for another digest, size or chunk size is discarded")
    func mismatch() throws {
        let (dir, data, path) = try Self.files()
        defer { dir.remove() }
        func seed() throws {
            let j = try Self.open(path, data)
            for chunk in 0..<Self.plan.count { try j.mark(chunk) }
        }
        try seed()
        Self.expectFresh(try Self.open(path, data, digest: "sha256:" + String(repeating: "cd", count: 32)))
        try seed()
        Self.expectFresh(try Self.open(path, data, plan: ChunkPlan(size: Self.plan.size, chunkSize: 500)))
        try seed()
        // Another size: the data file has that size too, so only the journal's header tells them apart.
        let (dir2, data2, _) = try Self.files(size: Self.plan.size + 1)
        defer { dir2.remove() }
        try FileManager.default.copyItem(atPath: path, toPath: data2 + ".journal")
        Self.expectFresh(try Self.open(data2 + ".journal", data2, plan: ChunkPlan(size: Self.plan.size + 1, chunkSize: 1000)))
        // The original still matches and is still trusted.
        #expect(try Self.open(path, data).doneCount == Self.plan.count)
    }

    @Test("a torn, short, long or corrupt journal is discarded", arguments: ["short", "torn", "long", "magic", "version", "empty"])
    func damaged(kind: String) throws {
        let (dir, data, path) = try Self.files()
        defer { dir.remove() }
        do {
            let j = try Self.open(path, data)
            for chunk in 0..<Self.plan.count { try j.mark(chunk) }
        }
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        switch kind {
        case "short": bytes.removeLast()
        case "torn": bytes = Array(bytes.prefix(20))
        case "long": bytes.append(0xff)
        case "magic": bytes[0] ^= 0x20
        case "version": bytes[9] = 2
        default: bytes = []
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reopened = try Self.open(path, data)
        Self.expectFresh(reopened)
        // It was replaced by a fresh, well-formed journal that works from here on.
        try reopened.mark(2)
        #expect(try Self.open(path, data).isDone(2))
    }

    @Test("a data file of the wrong size (or none) makes the journal worthless")
    func dataFile() throws {
        let (dir, data, path) = try Self.files()
        defer { dir.remove() }
        do {
            let j = try Self.open(path, data)
            try j.mark(0)
            try j.mark(1)
        }
        let handle = try #require(FileHandle(forWritingAtPath: data))
        try handle.truncate(atOffset: 1000)
        try handle.close()
        Self.expectFresh(try Self.open(path, data))

        do {
            let (dir2, data2, path2) = try Self.files()
            defer { dir2.remove() }
            try Self.open(path2, data2).mark(4)
            try FileManager.default.removeItem(atPath: data2)
            Self.expectFresh(try Self.open(path2, data2))
        }
    }
}

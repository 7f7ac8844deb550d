import CFile
import Foundation
import Glibc
import TestSupport
import Testing
@testable import Transfer

/// `DirectWriter`: runs that start and end anywhere land byte for byte, whole blocks directly, the ends buffered;
/// `written` never claims a byte that is not in the file.
@Suite struct DirectWriterTests {
    /// A preallocated file of `size` zero bytes in a fresh directory under /tmp (a file system with O_DIRECT).
    static func file(_ size: Int, in dir: TemporaryDirectory) throws -> (fd: Int32, path: String) {
        let path = dir.appending("bundle").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        try #require(posix_fallocate(fd, 0, off_t(size)) == 0)
        return (fd, path)
    }

    @Test("runs at unaligned offsets, fed in odd pieces, across several buffers: the file holds exactly the bytes")
    func unalignedRuns() throws {
        let dir = try TemporaryDirectory()
        let size = 3 << 20
        let (fd, path) = try Self.file(size, in: dir)
        defer { close(fd) }
        let file = DownloadFile.open(fd, path: path, direct: true)
        defer { file.close() }
        try #require(file.direct != nil, "/tmp takes O_DIRECT here")
        let content = randomBytes(size, seed: 5)
        // Three runs side by side, like a bundle's segments: a 512-aligned tar offset, a run ending mid-block, a
        // run shorter than a block, and the rest.
        let runs: [Range<Int>] = [512..<1_000_001, 1_000_001..<1_000_100, 1_000_100..<size]
        for run in runs {
            // What the writer reports written: in order, back to back, and exactly the run's bytes.
            var seen: [UInt8] = []
            var next = Int64(run.lowerBound)
            let writer = try #require(DirectWriter(file, at: Int64(run.lowerBound), capacity: 64 << 10) { bytes, offset in
                #expect(offset == next)
                next += Int64(bytes.count)
                seen += bytes
            })
            var offset = run.lowerBound
            var piece = 1
            while offset < run.upperBound {
                let n = min(piece, run.upperBound - offset)
                try content[offset..<(offset + n)].withUnsafeBytes { try writer.write($0) }
                offset += n
                piece = piece * 3 % 100_003 + 1  // 1, 4, 13, …: pieces of every size, some over the buffer
                #expect(writer.written <= Int64(offset), "written claims bytes not given yet")
                #expect(next == writer.written, "reported as written exactly what is in the file")
            }
            try writer.finish()
            #expect(writer.written == Int64(run.upperBound))
            #expect(seen == Array(content[run]))
        }
        let back = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(back.count == size)
        #expect(back.prefix(512).allSatisfy { $0 == 0 }, "nothing written before the first run")
        #expect(Array(back[512...]) == Array(content[512...]))
    }

    @Test("body chunks laid out for their file offsets go to the file without a copy, but a block per chunk at most")
    func placedChunks() throws {
        let dir = try TemporaryDirectory()
        let size = 6 << 20
        let (fd, path) = try Self.file(size, in: dir)
        defer { close(fd) }
        let file = DownloadFile.open(fd, path: path, direct: true)
        defer { file.close() }
        let content = randomBytes(size, seed: 6)
        // A tar member's data: 512-aligned, not 4096-aligned. The first callbacks arrive before the reader placed
        // the body (that chunk is copied), the rest are laid out by the engine's own bookkeeping.
        let start = 1536, end = size - 700
        var state = CurlEasy.State()
        var chunks: [BodyChunk] = []
        var offset = start
        var callback = 1
        while offset < end {
            if offset >= start + (100 << 10) && state.phase == nil { state.phase = Int64(start) }
            let n = min(callback, end - offset)
            content[offset..<(offset + n)].withUnsafeBytes { state.append($0, limit: 512 << 10) }
            offset += n
            callback = callback * 7 % 262_139 + 1
            if let body = state.body, body.count >= 512 << 10 {
                chunks.append(body)
                state.body = nil
            }
        }
        if let body = state.body { chunks.append(body) }
        var hashed = Int64(start)
        let writer = try #require(DirectWriter(file, at: Int64(start)) { bytes, at in
            #expect(at == hashed)
            hashed += Int64(bytes.count)
        })
        for chunk in chunks { try chunk.withUnsafeBytes { try writer.write($0) } }
        try writer.finish()
        #expect(writer.written == Int64(end) && hashed == Int64(end))
        let back = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(back[start..<end]) == Array(content[start..<end]))
        // The chunk before placement is copied whole; after it, each chunk copies less than one block.
        var at = start
        let placed = chunks.map { chunk -> Bool in
            defer { at += chunk.count }
            return chunk.withUnsafeBytes { Int(bitPattern: $0.baseAddress!) % 4096 } == at % 4096
        }
        #expect(placed == [false] + Array(repeating: true, count: chunks.count - 1))
        let unplaced = chunks.prefix(1)
        let allowed = unplaced.reduce(0) { $0 + $1.count } + chunks.count * file.block
        #expect(writer.copied <= allowed, "copied \(writer.copied) of \(end - start) bytes in \(chunks.count) chunks")
        #expect(writer.copied < (end - start) / 8)
    }

    @Test("direct writes the file system refuses (EINVAL) go through the page cache, and the bytes still land")
    func refusedDirectWrites() throws {
        let dir = try TemporaryDirectory()
        let size = 1 << 20
        let (fd, path) = try Self.file(size, in: dir)
        defer { close(fd) }
        let direct = CFile_open_direct(path)
        try #require(direct >= 0)
        defer { close(direct) }
        // A "block" of 256 bytes: O_DIRECT here needs 512-byte offsets, so the kernel refuses these writes.
        let file = DownloadFile(fd: fd, direct: direct, path: path, block: 256)
        let content = randomBytes(size - 256, seed: 6)
        let writer = try #require(DirectWriter(file, at: 256, capacity: 64 << 10))
        try content.withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        #expect(writer.refused)
        #expect(writer.written == Int64(size))
        let back = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(back[256...]) == content)
    }

    @Test("a download into a file of its own writes through the page cache: no direct descriptor, no DirectWriter")
    func bufferedWhenNotAsked() throws {
        let dir = try TemporaryDirectory()
        let (fd, path) = try Self.file(1 << 20, in: dir)
        defer { close(fd) }
        let file = DownloadFile.open(fd, path: path, direct: false)
        #expect(file.direct == nil)
        #expect(DirectWriter(file, at: 0) == nil)
    }
}

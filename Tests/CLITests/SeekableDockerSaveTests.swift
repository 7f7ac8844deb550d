import Codec
import Foundation
import TestSupport
import Testing

/// A docker save compressed into seekable zstd frames (a frame index but no index.json, as t2sz or a seekable zstd
/// writer makes it): planned from manifest.json like `docker save | zstd`, not refused as a broken Ferry bundle.
@Suite struct SeekableDockerSaveTests {
    /// `input` cut into zstd frames of `frameSize` bytes, followed by the zstd seekable format's index
    /// (skippable frame 0x184D2A5E, compressed and decompressed size per frame, count, no checksums, 0x8F92EAB1).
    static func seekable(_ input: [UInt8], frameSize: Int = 256 << 10) throws -> [UInt8] {
        var out: [UInt8] = []
        var table: [UInt8] = []
        func le(_ v: UInt32, into bytes: inout [UInt8]) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        var start = 0
        while start < input.count {
            let piece = Array(input[start..<min(input.count, start + frameSize)])
            let frame = try ZstdEncoder.compress(piece)
            out += frame
            le(UInt32(frame.count), into: &table)
            le(UInt32(piece.count), into: &table)
            start += frameSize
        }
        let frames = UInt32(table.count / 8)
        le(0x184D_2A5E, into: &out)
        le(UInt32(table.count + 9), into: &out)
        out += table
        le(frames, into: &out)
        out.append(0)
        le(0x8F92_EAB1, into: &out)
        return out
    }

    @Test("a seekable .tar.zst docker save loads and copies (by :@N) with the digests of the same archive uncompressed")
    func seekableDockerSaveLoads() async throws {
        let f = try await CompressedDockerSaveTests.Fixture()
        defer { f.registry.stop() }
        let seekable = f.work.appending("images-seekable.tar.zst").path
        try Data(try Self.seekable([UInt8](try Data(contentsOf: URL(fileURLWithPath: f.plain))))).write(to: URL(fileURLWithPath: seekable))

        let load = try await f.run(["load", "--quiet", "--tls-verify=false", seekable, "--to", "\(f.registry.address)/seek"])
        #expect(load.status == 0, "\(load.stderrString)")
        let plain = try await f.run(["load", "--quiet", "--tls-verify=false", f.plain, "--to", "\(f.registry.address)/plain"])
        #expect(plain.status == 0, "\(plain.stderrString)")
        let digests = { (r: ProcessResult) in r.stdoutString.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" }.sorted() }
        #expect(digests(load) == digests(plain) && digests(load).count == 2, "\(load.stdoutString) vs \(plain.stdoutString)")
        try await f.expectServed(f.tool, as: "docker://\(f.registry.address)/seek/ferry-test/tool:2.0")

        let copy = try await f.run(["copy", "--quiet", "--tls-verify=false", "docker-archive:\(seekable):@1", "docker://\(f.registry.address)/byindex/tool:2"])
        #expect(copy.status == 0, "\(copy.stderrString)")
        try await f.expectServed(f.tool, as: "docker://\(f.registry.address)/byindex/tool:2")
    }

    @Test("a seekable .tar.zst of something that is no image archive is refused before any pass, saying what ferry reads")
    func seekableNonImageRefused() async throws {
        let f = try await CompressedDockerSaveTests.Fixture(layerSize: 10_000)
        defer { f.registry.stop() }
        let tar = f.work.appending("notes.tar").path
        try ArchiveWriter.tar([ArchiveWriter.Member(name: "notes.txt", bytes: Array("hello".utf8))], to: tar)
        let seekable = tar + ".zst"
        try Data(try Self.seekable([UInt8](try Data(contentsOf: URL(fileURLWithPath: tar))))).write(to: URL(fileURLWithPath: seekable))

        let load = try await f.run(["load", "--quiet", "--tls-verify=false", seekable, "--to", "\(f.registry.address)/none"])
        #expect(load.status != 0)
        #expect(load.stderrString.contains("neither index.json nor manifest.json"), "\(load.stderrString)")
        #expect(load.stderrString.contains("ferry save"), "the refusal says how to get an archive Ferry reads: \(load.stderrString)")
        #expect(!load.stderrString.contains("pass 1"), "refused from the frame-indexed listing, without decompressing it all: \(load.stderrString)")
    }
}

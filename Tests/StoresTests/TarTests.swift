import Foundation
import Stores
import TestSupport
import Testing

@Suite struct TarTests {
    @Test("planned headers read back with GNU tar and with TarReader, PAX size records included")
    func headersRoundTrip() async throws {
        let dir = try TemporaryDirectory()
        var plan = BundlePlan()
        plan.addFile("oci-layout", content: Array("{}".utf8))
        plan.addDirectory("blobs/")
        let longName = "blobs/" + String(repeating: "d", count: 120) + "/file"
        plan.addFile(longName, content: Array("hello".utf8))
        let path = dir.appending("t.tar").path
        var bytes = [UInt8](repeating: 0, count: Int(plan.archiveSize))
        for m in plan.members {
            let h = m.header.encode()
            bytes.replaceSubrange(Int(m.offset)..<Int(m.offset) + h.count, with: h)
            if let c = m.content { bytes.replaceSubrange(Int(m.dataOffset)..<Int(m.dataOffset) + c.count, with: c) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let listed = try await ProcessRunner.check(["tar", "-tf", path]).stdoutString.split(separator: "\n").map(String.init)
        #expect(listed == ["oci-layout", "blobs/", longName])
        let entries = try TarReader(path: path).entries()
        #expect(entries.map(\.name) == ["oci-layout", "blobs/", longName])
        #expect(entries[2].size == 5)
        #expect(entries[2].dataOffset == plan.members[2].dataOffset)

        let big = TarHeader(name: "blobs/sha256/big", size: 9 << 30)
        #expect(big.headerLength == 1536)
        #expect(big.encode().count == 1536)
        #expect(String(decoding: big.encode()[512..<1024].prefix { $0 != 0 }, as: UTF8.self).hasSuffix(" size=\(9 << 30)\n"))
    }

    @Test("GNU tar's long names and links, in GNU and PAX format: the seeking and the streaming reader list the same", arguments: ["gnu", "pax"])
    func longNamesBothReaders(format: String) async throws {
        let dir = try TemporaryDirectory()
        let deep = String(repeating: "n", count: 130)
        let tree = dir.appending("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent(deep), withIntermediateDirectories: true)
        try Data("long file".utf8).write(to: tree.appendingPathComponent(deep).appendingPathComponent("f"))
        try Data("short".utf8).write(to: tree.appendingPathComponent("s"))
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("l").path, withDestinationPath: deep + "/f")
        let path = dir.appending("t.tar").path
        _ = try await ProcessRunner.check(["tar", "--format=\(format)", "--sort=name", "-cf", path, "-C", tree.path, "."])

        let seeking = try TarReader(path: path).entries()
        var streaming = TarStreamParser(path: path, hashing: true)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.withUnsafeBytes { try streaming.feed($0) }
        try streaming.finish()
        #expect(streaming.members.map(\.entry) == seeking)
        let byName = Dictionary(uniqueKeysWithValues: seeking.map { ($0.name, $0) })
        let file = try #require(byName["./\(deep)/f"], "names: \(seeking.map(\.name))")
        #expect(file.size == 9)
        #expect(Array(bytes[Int(file.dataOffset)..<Int(file.dataOffset) + 9]) == Array("long file".utf8))
        #expect(byName["./l"]?.linkName == deep + "/f")
        #expect(byName["./s"]?.size == 5)
    }

    @Test("a malformed PAX record (a length too short for its text, running past the header, or without =) is refused by both readers, not a crash")
    func malformedPAXRefused() throws {
        let dir = try TemporaryDirectory()
        for (i, record) in ["1 a=b\n", "99 path=x\n", "9 abcdef\n", "5 a=b\n"].enumerated() {
            var bytes: [UInt8] = []
            func member(_ header: TarHeader, _ content: [UInt8]) {
                bytes += header.encode() + content + [UInt8](repeating: 0, count: Int(header.paddedSize) - content.count)
            }
            member(TarHeader(name: "pax", size: Int64(record.utf8.count), kind: .paxExtended), Array(record.utf8))
            member(TarHeader(name: "file", size: 5), Array("hello".utf8))
            bytes += [UInt8](repeating: 0, count: 1024)
            let path = dir.appending("pax\(i).tar").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let seeking = #expect(throws: StoreError.self) { try TarReader(path: path).entries() }
            #expect(seeking?.message.contains("PAX extended header is malformed") == true, "\(record): \(String(describing: seeking))")
            var streaming = TarStreamParser(path: path, hashing: false)
            #expect(throws: StoreError.self, "\(record)") {
                try bytes.withUnsafeBytes { try streaming.feed($0) }
                try streaming.finish()
            }
        }
    }

    @Test func archivePathsRefuseEscapes() {
        #expect(ArchivePath.normalized("blobs/./sha256/x") == "blobs/sha256/x")
        #expect(ArchivePath.normalized("/etc/passwd") == nil)
        #expect(ArchivePath.normalized("a/../../x") == nil)
        #expect(ArchivePath.resolveLink("../abc/layer.tar", from: "def/layer.tar") == "abc/layer.tar")
        #expect(ArchivePath.resolveLink("../../etc/shadow", from: "def/layer.tar") == nil)
        #expect(ArchivePath.resolveLink("/etc/shadow", from: "x") == nil)
    }
}

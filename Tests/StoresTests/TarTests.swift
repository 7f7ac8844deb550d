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

    @Test func archivePathsRefuseEscapes() {
        #expect(ArchivePath.normalized("blobs/./sha256/x") == "blobs/sha256/x")
        #expect(ArchivePath.normalized("/etc/passwd") == nil)
        #expect(ArchivePath.normalized("a/../../x") == nil)
        #expect(ArchivePath.resolveLink("../abc/layer.tar", from: "def/layer.tar") == "abc/layer.tar")
        #expect(ArchivePath.resolveLink("../../etc/shadow", from: "def/layer.tar") == nil)
        #expect(ArchivePath.resolveLink("/etc/shadow", from: "x") == nil)
    }
}

import Foundation
import Spawn
import TestSupport
import Testing

/// `ferry save --since`: an update bundle carries only what the old bundle does not.
@Suite struct SaveDeltaTests {
    @Test("one image changed out of ten: the delta holds that image's new blobs only, and verifies as a delta")
    func deltaOfOneChangedImage() async throws {
        let registry = try await RegistryLauncher.launch(.http)
        defer { registry.stop() }
        let work = try TemporaryDirectory()
        let spec = { (seed: UInt64) in ImageSpec(layers: [LayerSpec(size: 400_000), LayerSpec(size: 200_000)], seed: seed) }
        var refs: [String] = []
        for i in 0..<10 {
            let image = try ImageBuilder.write(spec(UInt64(100 + i)), to: work.appending("img\(i)"), tag: "1")
            try await Seeder(registry).push(image, to: "stack/app\(i)", tag: "1")
            refs.append("\(registry.address)/stack/app\(i):1")
        }
        let cli = try CLI()
        let old = work.appending("v1.tar").path
        let first = try await cli.run(["save", "-o", old] + refs)
        #expect(first.status == 0, "\(first.stderrString)")

        // The release moves app3 to new content under the same tag.
        let changed = try ImageBuilder.write(spec(999), to: work.appending("changed"), tag: "1")
        try await Seeder(registry).push(changed, to: "stack/app3", tag: "1")

        let delta = work.appending("v2-delta.tar").path
        // From the sidecar alone, as on the far side of an air gap where the old 20 GB file is not at hand.
        try FileManager.default.moveItem(atPath: old, toPath: old + ".elsewhere")
        let second = try await cli.run(["save", "--since", old + ".ferry.json", "-o", delta] + refs)
        #expect(second.status == 0, "\(second.stderrString)")
        #expect(second.stderrString.contains("left out"))

        let oldSize = try #require(try FileManager.default.attributesOfItem(atPath: old + ".elsewhere")[.size] as? Int)
        let deltaSize = try #require(try FileManager.default.attributesOfItem(atPath: delta)[.size] as? Int)
        #expect(deltaSize < oldSize / 5, "delta \(deltaSize) bytes vs full \(oldSize)")
        let members = Set(try TarListing.names(delta))
        for blob in changed.blobs { #expect(members.contains("blobs/sha256/\(blob.hex)"), "changed blob \(blob.digest)") }
        #expect(!members.contains("manifest.json"), "a delta is not a docker load archive")

        let verify = try await cli.run(["verify", delta])
        #expect(verify.status == 0, "\(verify.stderrString)")
        #expect(verify.stdoutString.contains("delta"))
    }
}

enum TarListing {
    static func names(_ path: String) throws -> [String] {
        let listing = try Command(["/bin/tar", "-tf", path], standardError: .inherit).runBlocking()
        return listing.stdoutString.split(separator: "\n").map(String.init)
    }
}

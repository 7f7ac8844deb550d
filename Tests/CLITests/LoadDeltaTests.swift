import Foundation
import TestSupport
import Testing

/// A bundle that leaves out blobs the target already has (a delta) loads; the blobs it lacks are checked at the
/// target before anything is pushed.
@Suite struct LoadDeltaTests {
    @Test("a layout missing a layer loads into a registry that has that layer, and is refused by one that doesn't")
    func deltaOverItsBase() async throws {
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let proxy = try await UploadProxy.start(upstream: target.address)
        defer { proxy.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let image = try LoadKit.namedLayout(
            ImageSpec(layers: [LayerSpec(size: 300_000), LayerSpec(size: 200_000)], seed: 71), name: "quay.io/delta/app:1", at: work.appending("l"))
        let cli = try CLI()
        let env = ["XDG_STATE_HOME": work.appending("state").path]
        let base = try await cli.run(["load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/ns"], environment: env)
        #expect(base.status == 0, "\(base.stderrString)")

        let left = image.manifests[0].layers[0].blob
        try FileManager.default.removeItem(at: image.path(of: left.digest))
        try await proxy.reset()
        let delta = try await cli.run(["load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/ns"], environment: env)
        #expect(delta.status == 0, "\(delta.stderrString)")
        #expect(delta.stderrString.contains("0 blobs uploaded, 3 already there"), "\(delta.stderrString)")
        #expect(try await LoadKit.servedDigest("\(target.address)/ns/delta/app:1") == image.digest)

        let elsewhere = try await cli.run(["load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/other"], environment: env)
        #expect(elsewhere.status == 1)
        #expect(elsewhere.stderrString.contains("\(left.digest) (\(left.size) bytes) of quay.io/delta/app:1"), "\(elsewhere.stderrString)")
        #expect(elsewhere.stderrString.contains("nothing was pushed"))
        #expect(try await proxy.stats().uploads.requests == 0)
    }
}

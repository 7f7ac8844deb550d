import Foundation
import TestSupport
import Testing

/// Big blobs go in PATCH chunks, so a proxy that refuses bodies over 32 MiB (413) is no obstacle.
@Suite struct LoadChunkedTests {
    @Test("a 40 MiB layer through a 32 MiB body limit: 8 MiB chunks pass; the default 64 MiB meets one 413 and goes on in smaller chunks")
    func bodyLimit() async throws {
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let proxy = try await UploadProxy.start(upstream: target.address, faults: ["max-body=33554432"])
        defer { proxy.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let image = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: 40 << 20)], seed: 64), name: "quay.io/big/layer:1.0", at: work.appending("big"))
        let layer = image.manifests[0].layers[0].blob
        let cli = try CLI()
        let env = ["XDG_STATE_HOME": work.appending("state").path]

        let chunked = try await cli.run(["load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/a", "--upload-chunk-size", "8MiB"], environment: env)
        #expect(chunked.status == 0, "\(chunked.stderrString)")
        var stats = try await proxy.stats()
        #expect(stats.status(413) == 0)
        #expect(stats.uploads.requests >= 2 + (layer.size + (8 << 20) - 1) / (8 << 20), "POST, a PATCH per 8 MiB, PUT")
        #expect(try await LoadKit.servedDigest("\(target.address)/a/big/layer:1.0") == image.digest)

        try await proxy.reset()
        try await proxy.setFaults(#"[{"kind":"max-body","value":33554432}]"#)
        let fallback = try await cli.run(["load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/b"], environment: env)
        #expect(fallback.status == 0, "\(fallback.stderrString)")
        stats = try await proxy.stats()
        // One refusal lowers the size for the rest of the job. (The proxy closes the connection after its 413 and
        // curl may see the reset before the answer; that attempt is then repeated, so two are possible.)
        #expect((1...2).contains(stats.status(413)), "\(stats.statuses)")
        #expect(try await LoadKit.servedDigest("\(target.address)/b/big/layer:1.0") == image.digest)
    }
}

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Exit codes and messages of `ferry load` (DESIGN §2): 2 for usage, 1 with what to do, 143 when interrupted;
/// refusals happen before anything is pushed.
@Suite struct LoadFailureTests {
    @Test("usage errors exit 2 and say what is wrong")
    func usage() async throws {
        let cli = try CLI()
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let layout = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: 1000)], seed: 67), name: "quay.io/u/app:1", at: work.appending("l"))
        let dir = "oci:\(layout.layout.path)"
        let cases: [([String], String)] = [
            (["load", dir], "--to"),
            (["load", dir, "--to", "127.0.0.1:1/ns", "--layout", "tree"], "use path, flat or scoped"),
            (["load", work.appending("nope.tar").path, "--to", "127.0.0.1:1/ns"], "does not exist"),
            (["load", dir, "--to", "127.0.0.1:1/ns:tag"], "without a tag or digest"),
            (["load", dir, "--to", "127.0.0.1:1", "--upload-chunk-size", "lots"], "upload-chunk-size"),
            // A --map that could not be written after the pushes is refused before them.
            (["load", dir, "--to", "127.0.0.1:1/ns", "--map", work.path], "is a directory"),
            (["load", dir, "--to", "127.0.0.1:1/ns", "--map", work.appending("no/map.json").path], "there is no directory"),
            (["sync", "127.0.0.1:1/a:1", "--to", "127.0.0.1:1/ns", "--map", work.path], "is a directory"),
        ]
        for (args, message) in cases {
            let r = try await cli.run(args)
            #expect(r.status == 2, "\(args): \(r.stderrString)")
            #expect(r.stderrString.contains(message), "\(args): \(r.stderrString)")
        }
        let help = try await cli.run(["load", "--help"])
        #expect(help.stdoutString.contains("Examples:") && help.stdoutString.contains("--upload-chunk-size"))
    }

    @Test("refused before anything is pushed: name collisions, nameless layouts, a delta without its base; a 403 says the project may need creating")
    func refusals() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let proxy = try await UploadProxy.start(upstream: target.address)
        defer { proxy.stop() }
        let cli = try CLI()
        let env = ["XDG_STATE_HOME": source.work.appending("state").path]

        // demo/tool and other/tool are both "tool" with --layout flat.
        let shared = try await source.bundle("shared", [source.toolRef, source.toolCopyRef])
        let collision = try await cli.run(["load", shared, "--to", "\(proxy.address)/ns", "--layout", "flat"], environment: env)
        #expect(collision.status == 1)
        #expect(collision.stderrString.contains("two different sources map to one target with --layout flat"), "\(collision.stderrString)")
        #expect(collision.stderrString.contains("would both be \(proxy.address)/ns/tool"))

        // A layout that names its image only by tag, as skopeo writes it.
        let tagOnly = try ImageBuilder.write(ImageSpec(layers: [LayerSpec(size: 1000)], seed: 68), to: source.work.appending("tagonly"), tag: "1.0")
        let nameless = try await cli.run(["load", "oci:\(tagOnly.layout.path)", "--to", "\(proxy.address)/ns"], environment: env)
        #expect(nameless.status == 1)
        #expect(nameless.stderrString.contains("is named only \"1.0\""), "\(nameless.stderrString)")

        // A delta: a layer left out of the layout that the target does not have either.
        let delta = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: 5000), LayerSpec(size: 6000)], seed: 69), name: "quay.io/d/app:2", at: source.work.appending("delta"))
        try FileManager.default.removeItem(at: delta.path(of: delta.manifests[0].layers[1].blob.digest))
        let missing = try await cli.run(["load", "oci:\(delta.layout.path)", "--to", "\(proxy.address)/ns"], environment: env)
        #expect(missing.status == 1)
        #expect(missing.stderrString.contains("1 blob is neither in"), "\(missing.stderrString)")
        #expect(missing.stderrString.contains(delta.manifests[0].layers[1].blob.digest))
        #expect(try await proxy.stats().uploads.requests == 0, "nothing was pushed by any refused load")

        // Harbor and GitLab answer 403 (or NAME_UNKNOWN) when the project or group is missing.
        try await proxy.setFaults(#"[{"kind":"status","value":403,"method":"POST"}]"#)
        let denied = try await cli.run(["load", shared, "--to", "\(proxy.address)/akko"], environment: env)
        #expect(denied.status == 1)
        #expect(denied.stderrString.contains("the project or namespace akko may have to be created first"), "\(denied.stderrString)")
    }

    @Test("SIGTERM during a load exits 143 and says to run the same command again")
    func interrupted() async throws {
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let proxy = try await UploadProxy.start(upstream: target.address, faults: ["hold,method=POST"])
        defer { proxy.stop() }
        let work = try TemporaryDirectory(prefix: "ferry-load-")
        let image = try LoadKit.namedLayout(ImageSpec(layers: [LayerSpec(size: 1000)], seed: 70), name: "quay.io/i/app:1", at: work.appending("l"))
        let cli = try CLI()
        let child = try spawn([try Binaries.ferry.path, "load", "oci:\(image.layout.path)", "--to", "\(proxy.address)/ns"], in: work, environment: ["HOME": cli.home.path, "XDG_STATE_HOME": work.appending("state").path])
        try await proxy.waitFor("an upload to start") { $0.held >= 1 }
        kill(child.pid, SIGTERM)
        #expect(child.waitForExit(.seconds(10)))
        #expect(child.terminationStatus == 143)
        #expect(child.stderr().contains("run the same command again to resume"), "\(child.stderr())")
    }
}

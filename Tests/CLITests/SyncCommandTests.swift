import Foundation
import TestSupport
import Testing

/// `ferry sync` and `ferry copy docker:// docker://`: registry to registry, named as `load` names, digests kept.
@Suite struct SyncCommandTests {
    @Test("sync with --keep-going: the good images arrive with their digests, the bad one is reported (exit 1); again, nothing moves")
    func syncKeepGoingThenUpToDate() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let proxy = try await UploadProxy.start(upstream: target.address)
        defer { proxy.stop() }
        let cli = try CLI()
        let env = ["XDG_STATE_HOME": source.work.appending("state").path]
        let map = source.work.appending("synced.json").path
        let missing = "\(source.registry.address)/demo/missing:0"

        let first = try await cli.run(["sync", source.appRef, source.toolRef, missing, "--to", "\(proxy.address)/mirror", "--keep-going", "--map", map], environment: env)
        #expect(first.status == 1)
        #expect(first.stderrString.contains("\(missing): manifest"), "\(first.stderrString)")
        #expect(first.stderrString.contains("1 of 3 images failed"))
        #expect(first.stdoutString.contains("\(proxy.address)/mirror/demo/app:1.0 \(source.app.digest)"), "\(first.stdoutString)")
        #expect(try await LoadKit.servedDigest("\(target.address)/mirror/demo/app:1.0") == source.app.digest)
        #expect(try await LoadKit.servedDigest("\(target.address)/mirror/demo/tool:2.0") == source.tool.digest)
        let entries = try JSONDecoder().decode([[String: String]].self, from: Data(contentsOf: URL(fileURLWithPath: map)))
        #expect(entries.count == 2)
        #expect(LoadKit.journalFiles(source.work.appending("state")).isEmpty)

        try await proxy.reset()
        let second = try await cli.run(["sync", source.appRef, source.toolRef, "--to", "\(proxy.address)/mirror"], environment: env)
        #expect(second.status == 0, "\(second.stderrString)")
        #expect(second.stderrString.contains("(2 already up to date): 0 blobs copied"), "\(second.stderrString)")
        let stats = try await proxy.stats()
        #expect(stats.byClass["blobs"] == nil && stats.uploads.requests == 0, "only the manifests were asked for: \(stats.byClass)")
    }

    @Test("ferry copy docker://A docker://B keeps the digest")
    func copyRegistryToRegistry() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        let r = try await CLI().run(["copy", "docker://\(source.toolRef)", "docker://\(target.address)/copied/tool:7"], environment: ["XDG_STATE_HOME": source.work.appending("state").path])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == source.tool.digest)
        #expect(try await LoadKit.servedDigest("\(target.address)/copied/tool:7") == source.tool.digest)
    }
}

import Foundation
import TestSupport
import Testing

/// What the target already has is not sent again; what another image of the same load put in another repository
/// is mounted. Both seen at the proxy in front of the target.
@Suite struct LoadSkipMountTests {
    @Test("a blob shared by two repositories is uploaded once and mounted once; a second load sends no blob at all")
    func skipAndMount() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let target = try await RegistryLauncher.launch(.http)
        defer { target.stop() }
        // A fault that changes nothing for a POST counts the mount requests for us.
        let proxy = try await UploadProxy.start(upstream: target.address, faults: ["ignore-range,path=mount="])
        defer { proxy.stop() }
        let bundle = try await source.bundle("shared", [source.toolRef, source.toolCopyRef])
        let toolBlobs = source.tool.blobs.filter { !$0.mediaType.contains("manifest") }
        let toolBytes = toolBlobs.reduce(0) { $0 + $1.size }
        let cli = try CLI()
        let args = ["load", bundle, "--to", "\(proxy.address)/ns"]
        let env = ["XDG_STATE_HOME": source.work.appending("state").path]

        let first = try await cli.run(args, environment: env)
        #expect(first.status == 0, "\(first.stderrString)")
        #expect(first.stderrString.contains("\(toolBlobs.count) blobs uploaded, 0 already there, \(toolBlobs.count) mounted"), "\(first.stderrString)")
        var stats = try await proxy.stats()
        #expect(stats.faults.first?.matched == toolBlobs.count, "one mount request per blob of the second image")
        #expect(stats.uploads.requestBodyBytes == toolBytes, "the shared blobs were sent once")
        for repo in ["ns/demo/tool", "ns/other/tool"] {
            #expect(try await LoadKit.servedDigest("\(target.address)/\(repo):2.0") == source.tool.digest)
        }

        try await proxy.reset()
        let second = try await cli.run(args, environment: env)
        #expect(second.status == 0, "\(second.stderrString)")
        #expect(second.stderrString.contains("0 blobs uploaded, \(toolBlobs.count * 2) already there, 0 mounted"), "\(second.stderrString)")
        stats = try await proxy.stats()
        #expect(stats.uploads.requests == 0, "no POST, PATCH or PUT of a blob")
        #expect(stats.byClass["blobs"]?.requests == toolBlobs.count * 2, "one HEAD per blob and repository")
    }
}

/// Mounts under token auth: the registry wants `pull` on the source repository in the same token as `push` on
/// the target.
@Suite struct LoadMountTokenTests {
    @Test("with a token service, a mount asks for one token carrying push on the target and pull on the source")
    func mountWithToken() async throws {
        let source = try await LoadSource.launch()
        defer { source.registry.stop() }
        let user = Credentials(username: "pusher", password: "t0ken")
        let target = try await RegistryLauncher.launch(.token(users: [user]))
        defer { target.stop() }
        let bundle = try await source.bundle("shared", [source.toolRef, source.toolCopyRef])
        let blobs = source.tool.blobs.filter { !$0.mediaType.contains("manifest") }.count
        let r = try await CLI().run(
            ["load", bundle, "--to", "\(target.address)/ns", "--creds", user.colonSeparated],
            environment: ["XDG_STATE_HOME": source.work.appending("state").path])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stderrString.contains("\(blobs) mounted"), "\(r.stderrString)")

        let realm = try #require(target.tokenRealm)
        let stats = try await ProcessRunner.check(["curl", "-sS", "--max-time", "10", "http://\(realm.host!):\(realm.port!)/__testkit/stats"])
        let sets = ((try JSONSerialization.jsonObject(with: stats.stdout) as? [String: Any])?["scopeSets"] as? [String: Int]) ?? [:]
        let mountTokens = sets.keys.filter { key in
            let scopes = key.split(separator: " ")
            return scopes.count == 2 && scopes.contains { $0.hasSuffix(":pull,push") } && scopes.contains { $0.hasSuffix("/tool:pull") }
        }
        #expect(!mountTokens.isEmpty, "one token for push on the target and pull on the source: \(sets)")
    }
}

import Foundation
import TestSupport
import Testing

/// Blobs served through the registry's `redirect` middleware, with a fault proxy in front of the storage host too:
/// a redirect URL that stops working (403, as an expired signed URL does) is resolved again through the registry,
/// and is never persisted.
@Suite struct DownloadRedirectTests {
    /// Registry → 307 → storage proxy → `ferry-testkit serve-files` on the registry's storage directory.
    struct RedirectSetup {
        let work: TemporaryDirectory
        let files: ChildProcess
        let storage: DL.Proxy
        let registry: ChildProcess
        let registryAddress: String

        static func start(storageFaults: [String]) async throws -> RedirectSetup {
            let work = try TemporaryDirectory(prefix: "ferry-dl-redirect-")
            let root = work.appending("storage")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let files = try ChildProcess(
                [try Binaries.testkit.path, "serve-files", "--listen", "127.0.0.2:0", "--root", root.path],
                stdoutFile: work.appending("files.stdout"), stderrFile: work.appending("files.stderr"))
            let listening = try await DL.waitUntil(.seconds(20)) { files.stdout().hasPrefix("listening ") || !files.isRunning }
            try #require(listening && files.isRunning, "serve-files: \(files.stderr())")
            let filesAddress = String(files.stdout().dropFirst("listening ".count)).trimmingCharacters(in: .whitespacesAndNewlines)
            let storage = try await DL.Proxy.start(upstream: filesAddress, faults: storageFaults, listen: "127.0.0.2:0")

            let address = "127.0.0.1:\(try FreePort.pick())"
            let config: [String: Any] = [
                "version": "0.1",
                "log": ["level": "warn", "accesslog": ["disabled": true]],
                "storage": ["filesystem": ["rootdirectory": root.path], "maintenance": ["uploadpurging": ["enabled": false]]],
                "http": ["addr": address, "secret": "ferry-dl-redirect-test"],
                "middleware": ["storage": [["name": "redirect", "options": ["baseurl": "http://\(storage.address)/"]]]],
            ]
            let configFile = work.appending("registry.json")
            try JSONSerialization.data(withJSONObject: config, options: [.withoutEscapingSlashes]).write(to: configFile)
            let registry = try ChildProcess(
                ["docker-registry", "serve", configFile.path],
                stdoutFile: work.appending("registry.stdout"), stderrFile: work.appending("registry.log"),
                removingEnvironmentPrefix: "REGISTRY_")
            let up = try await DL.waitUntil(.seconds(20), every: .milliseconds(50)) {
                let r = try await ProcessRunner.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://\(address)/v2/"])
                return r.stdoutString == "200" || !registry.isRunning
            }
            try #require(up && registry.isRunning, "registry: \(registry.stderr())")
            return RedirectSetup(work: work, files: files, storage: storage, registry: registry, registryAddress: address)
        }

        func stop() {
            self.registry.stop()
            self.storage.stop()
            self.files.stop()
            self.work.remove()
        }
    }

    @Test("a redirect URL answering 403 part way is resolved again through the registry; it is never written to disk")
    func expiredRedirect() async throws {
        let spec = ImageSpec(layers: [LayerSpec(size: 8 << 20)], seed: 361)
        let scratch = try TemporaryDirectory(prefix: "ferry-dl-src-")
        let image = try await DL.buildImage(spec, at: scratch.appending("src"), tag: "1")
        let layer = image.manifests[0].layers[0].blob
        // The layer's first request to storage waits at the proxy, so the 403 can be armed for the ones after it.
        let setup = try await RedirectSetup.start(storageFaults: ["hold,count=1,path=\(layer.hex)"])
        defer { setup.stop() }
        try await Seeder(baseURL: URL(string: "http://\(setup.registryAddress)")!).push(image, to: "redir/app", tag: "1")
        let front = try await DL.Proxy.start(upstream: setup.registryAddress)
        defer { front.stop() }

        let home = try TemporaryDirectory(prefix: "ferry-home-")
        let layout = scratch.appending("out").path
        let ferry = try DL.startFerry(
            ["copy", "--progress", "json", "--split-after", "0", "--connections", "4", "--chunk-size", "512KiB", "docker://\(front.address)/redir/app:1", "oci:\(layout)"],
            home: home, output: scratch, name: "ferry")
        defer { ferry.stop() }
        let held = try await DL.waitUntil(.seconds(20)) { try await setup.storage.stats().held == 1 || !ferry.isRunning }
        try #require(held && ferry.isRunning, "the layer's first storage request never came: \(ferry.stderr())")
        try await setup.storage.setFaults(#"[{"kind":"status","value":403,"count":1,"path":"\#(layer.hex)"}]"#)
        // While the download is under way, its state on disk holds no URL of the storage host.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(layout)/.ferry/tmp")) ?? [] where name.hasSuffix(".journal") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(layout)/.ferry/tmp/\(name)"))
            #expect(!String(decoding: bytes, as: UTF8.self).contains(setup.storage.address), "journal \(name) holds the redirect URL")
            #expect(!String(decoding: bytes, as: UTF8.self).contains("http"))
        }
        try await setup.storage.releaseHeld()

        #expect(try await DL.waitForExit(ferry, timeout: .seconds(60)))
        #expect(ferry.terminationStatus == 0, "\(ferry.stderr())")
        #expect(try DL.verifyLayout(layout) == Set(image.blobs.map(\.digest)))
        let storage = try await setup.storage.stats()
        let registry = try await front.stats()
        #expect(storage.status(403) == 1)
        // Config once, the layer once at the start and again after the 403 (connections asking while it was being
        // resolved again may each go through the registry too): not once per segment request.
        #expect(registry.status(307) >= 3 && registry.status(307) <= 2 + 3, "registry answered \(registry.statuses)")
        #expect(storage.status(206) >= 4, "segments went to the storage host: \(storage.statuses)")
    }
}

import Foundation
import Registry

/// The state of one `ferry bench` run: its services, data and what it pushed to a user's registry.
struct Session {
    let scenario: Scenario
    let tools: Tools
    let work: String
    let log: @Sendable (String) -> Void
    /// The repository prefix everything goes under: `ferry-bench-<random>`, fresh each run.
    let namespace: String
    /// Ferry's children keep their resume state here, not in the user's ~/.local/state.
    let environment: [String: String]

    var services: [Service] = []
    /// The registry under test (HOST:PORT).
    var main = ""
    var layouts: [String] = []
    var imageBytes: Int64 = 0
    /// The seeded images, `MAIN/NS/src-I:1`.
    var sources: [String] = []
    var bundle: String?
    var codecFile: String?
    /// References written to a user's registry, deleted at the end.
    var pushed: [String] = []
    var counter = 0

    init(scenario: Scenario, tools: Tools, work: String, log: @escaping @Sendable (String) -> Void) {
        self.scenario = scenario
        self.tools = tools
        self.work = work
        self.log = log
        self.namespace = "ferry-bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_STATE_HOME"] = "\(work)/state"
        self.environment = environment
    }

    var isLocal: Bool { self.scenario.registry == nil }

    /// Plain HTTP is fine: `--tls-verify=false`, or a loopback registry, where Ferry (like Docker) falls back to
    /// plain HTTP by itself and skopeo needs telling.
    var allowsPlainHTTP: Bool {
        guard let registry = self.scenario.registry else { return true }
        return !self.scenario.tlsVerify || RegistryOptions.isLoopback(registry)
    }
    var logs: String { "\(self.work)/logs" }

    // MARK: set-up

    mutating func prepare() async throws {
        for directory in ["logs", "state", "images", "runs"] {
            try FileManager.default.createDirectory(atPath: "\(self.work)/\(directory)", withIntermediateDirectories: true)
        }
        let phases = Set(self.scenario.phases)
        if phases.contains(where: \.needsRegistry) {
            if let registry = self.scenario.registry {
                self.main = registry
                self.log("registry under test: \(registry), repositories under \(self.namespace)/")
                if let ca = self.scenario.caCert { try self.makeSkopeoCertDirectory(ca) }
            } else {
                self.main = try await self.startRegistry(name: "registry").address
                self.log("registry under test: local, \(self.main)")
            }
        }
        if phases.contains(where: { $0 == .push || $0.readsSeededImages }) {
            let each = self.scenario.imageBytes / Int64(self.scenario.images)
            self.log("making \(self.scenario.images) image(s) of \(Format.bytes(each)) in \(self.scenario.layers) layer(s) each\(self.scenario.compressible ? ", compressible" : "") …")
            for index in 0..<self.scenario.images {
                let layout = "\(self.work)/images/\(index)"
                var argv = [
                    self.tools.testkit, "image", "--out", layout, "--tag", "1", "--size", "\(each)",
                    "--layers", "\(self.scenario.layers)", "--seed", "\(7919 * (index + 1))",
                ]
                if self.scenario.compressible { argv.append("--compressible") }
                _ = try await measured(argv, environment: nil)
                self.layouts.append(layout)
            }
            self.imageBytes = try self.layouts.reduce(0) { $0 + (try Self.blobSizes(in: $1)).values.reduce(0, +) }
        }
        if phases.contains(where: \.readsSeededImages) {
            self.log("seeding the source images into \(self.main)/\(self.namespace)/src-* …")
            for (index, layout) in self.layouts.enumerated() {
                let reference = "\(self.main)/\(self.namespace)/src-\(index):1"
                _ = try await measured(
                    [self.tools.ferry, "copy", "-q"] + self.registryFlags() + ["oci:\(layout):1", "docker://\(reference)"],
                    environment: self.environment)
                self.sources.append(reference)
                self.remember(reference)
            }
        }
        if phases.contains(.load) {
            let bundle = "\(self.work)/bundle/bundle.tar"
            try FileManager.default.createDirectory(atPath: "\(self.work)/bundle", withIntermediateDirectories: true)
            self.log("saving the bundle that load pushes …")
            _ = try await measured(
                [self.tools.ferry, "save", "-q"] + self.registryFlags() + ["-o", bundle] + self.sources,
                environment: self.environment)
            self.bundle = bundle
        }
        if phases.contains(where: \.isCodec) {
            let file = "\(self.work)/logs.txt"
            self.log("making \(Format.bytes(self.scenario.codecBytes)) of log-like text for the codecs …")
            _ = try await measured(
                [self.tools.testkit, "codec", "logs", "--out", file, "--size", "\(self.scenario.codecBytes)"], environment: nil)
            self.codecFile = file
        }
    }

    /// A registry of our own on a free loopback port, with its storage in the work directory. One attempt: the
    /// launcher already retries when another process takes the port it picked.
    mutating func startRegistry(name: String) async throws -> Service {
        self.counter += 1
        let root = "\(self.work)/\(name)-\(self.counter)"
        let service = try await Service.start(
            "\(name)-\(self.counter)",
            [self.tools.testkit, "registry", "--variant", "http", "--root", root, "--info", "\(root).json"], logs: self.logs)
        self.services.append(service)
        return service
    }

    /// Stops one service and removes its storage (a fresh target registry after its run).
    mutating func stop(_ service: Service) {
        service.stop()
        self.services.removeAll { $0 === service }
        try? FileManager.default.removeItem(atPath: "\(self.work)/\(service.name)")
    }

    func stopServices() {
        for service in self.services.reversed() { service.stop() }
    }

    /// Where a push-type run writes: a fresh empty local registry (so nothing is skipped or mounted from an earlier
    /// run, by Ferry or by skopeo's blob cache), or the user's registry under a fresh repository.
    mutating func target() async throws -> (address: String, service: Service?) {
        guard self.isLocal else { return (self.main, nil) }
        let service = try await self.startRegistry(name: "target")
        return (service.address, service)
    }

    mutating func release(_ target: (address: String, service: Service?)) {
        if let service = target.service { self.stop(service) }
    }

    mutating func remember(_ reference: String) {
        if !self.isLocal { self.pushed.append(reference) }
    }

    // MARK: flags

    /// Ferry's registry flags: plain HTTP for local registries and the proxy, the user's TLS and credentials.
    func registryFlags(viaProxy: Bool = false) -> [String] {
        if self.isLocal || viaProxy { return ["--tls-verify=false"] }
        var flags: [String] = []
        if !self.scenario.tlsVerify { flags.append("--tls-verify=false") }
        if let ca = self.scenario.caCert { flags += ["--ca-cert", ca] }
        if let creds = self.scenario.creds { flags += ["--creds", creds] }
        return flags
    }

    /// skopeo's flags with `prefix` (`src-` or `dest-` for a side of a copy, empty for `skopeo delete`).
    func skopeoFlags(_ prefix: String) -> [String] {
        if self.isLocal { return ["--\(prefix)tls-verify=false"] }
        var flags: [String] = []
        if self.allowsPlainHTTP { flags.append("--\(prefix)tls-verify=false") }
        if self.scenario.caCert != nil { flags += ["--\(prefix)cert-dir", self.skopeoCertDirectory] }
        if let creds = self.scenario.creds { flags += ["--\(prefix)creds", creds] }
        return flags
    }

    /// skopeo takes a directory of certificates, not a file: `--ca-cert` is copied into it once, by `prepare`.
    var skopeoCertDirectory: String { "\(self.work)/skopeo-certs" }

    private func makeSkopeoCertDirectory(_ ca: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: self.skopeoCertDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca, toPath: "\(self.skopeoCertDirectory)/ca.crt")
        } catch {
            throw BenchError(.failed, "cannot copy --ca-cert \(ca) for skopeo: \(error.localizedDescription)")
        }
    }

    // MARK: clean-up

    /// Deletes what was pushed to a user's registry (manifests; blobs go at the registry's next garbage collection).
    mutating func cleanUpRegistry() async {
        guard !self.isLocal, !self.pushed.isEmpty else { return }
        if Task.isCancelled {
            self.log("note: interrupted, so \(self.pushed.count) test image(s) stay in \(self.main)/\(self.namespace)/; delete them by hand")
            return
        }
        guard let skopeo = try? self.tools.path(of: .skopeo) else {
            self.log("note: skopeo is missing, so \(self.pushed.count) test images stay in \(self.main)/\(self.namespace)/; delete them by hand")
            return
        }
        var failed: [String] = []
        for reference in self.pushed {
            do {
                _ = try await measured(
                    [skopeo, "delete", "--insecure-policy"] + self.skopeoFlags("") + ["docker://\(reference)"], environment: nil)
            } catch {
                failed.append(reference)
            }
        }
        self.pushed = []
        if failed.isEmpty {
            self.log("deleted the test images from \(self.main)/\(self.namespace)/ (their blobs go at the registry's next garbage collection)")
        } else {
            self.log("note: \(failed.count) test image(s) could not be deleted from \(self.main)/\(self.namespace)/ — the registry may not allow DELETE (Distribution: storage.delete.enabled: true); remove them by hand")
        }
    }

    // MARK: helpers

    /// Every blob of an OCI layout with its size: their sum is what one copy of the image moves.
    static func blobSizes(in layout: String) throws -> [String: Int64] {
        let directory = "\(layout)/blobs/sha256"
        var sizes: [String: Int64] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")
            sizes[name] = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        }
        return sizes
    }

    /// A fresh, empty directory for one run's output (removed again by `discard`).
    mutating func scratch(_ name: String) throws -> String {
        self.counter += 1
        let path = "\(self.work)/runs/\(name)-\(self.counter)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func discard(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}

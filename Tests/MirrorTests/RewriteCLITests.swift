import Foundation
import Testing
import TestSupport
import Yams

/// `ferry images` and `ferry rewrite` end to end: output, exit codes (0 ok, 1 failure, 2 usage) and help.
@Suite(.enabled(if: Binaries.isBuilt("ferry"), "needs the ferry product: swift build"))
struct RewriteCLITests {
    func ferry(_ arguments: String...) async throws -> ProcessResult {
        try await ProcessRunner.run([try Binaries.ferry.path] + arguments)
    }

    @Test func imagesPrintsTheSortedListWithInferredTagsMarked() async throws {
        let result = try await self.ferry("images", DiscoveryFixtures.path("charts/akko"))
        #expect(result.status == 0)
        let lines = result.stdoutString.split(separator: "\n").map(String.init)
        #expect(lines.count == DiscoveryFixtures.chart.count)
        #expect(lines == lines.sorted())
        #expect(lines.contains("docker.io/trinodb/trino:473  # tag from the chart's appVersion"))
        let references = Set(lines.map { String($0.prefix { $0 != " " }) })
        #expect(references == DiscoveryFixtures.chart)
    }

    @Test func imagesJSONNamesFileAndPath() async throws {
        let result = try await self.ferry("images", "--json", DiscoveryFixtures.path("ckf/bundle.yaml"))
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        let images = try #require(object?["images"] as? [[String: Any]])
        #expect(Set(images.compactMap { $0["reference"] as? String }) == DiscoveryFixtures.bundle)
        #expect(images.contains { $0["path"] as? String == "applications.katib-controller.options.custom_images.suggestion__pbt" && $0["line"] as? Int == 56 })
    }

    @Test func strictFailsListingEveryDoubt() async throws {
        let lenient = try await self.ferry("images", DiscoveryFixtures.path("values/doubts.yaml"))
        #expect(lenient.status == 0)
        #expect(lenient.stderrString.components(separatedBy: "warning:").count == 5)
        let strict = try await self.ferry("images", "--strict", DiscoveryFixtures.path("values/doubts.yaml"))
        #expect(strict.status == 1)
        #expect(strict.stdoutString.isEmpty)
        for line in [":4: app.image.repository", ":11: legacy.image.tag", ":14: sidecar.image", ":17: backup.agent"] {
            #expect(strict.stderrString.contains(line), "\(line)")
        }
        #expect(try await self.ferry("images", "--strict", DiscoveryFixtures.path("akko/values.yaml")).status == 0)
    }

    @Test func rewriteWritesTheOverlayOrRefuses() async throws {
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("values-airgapped.yaml").path
        let written = try await self.ferry("rewrite", DiscoveryFixtures.path("akko/values.yaml"), "--to", "registry.internal.corp.com/akko",
                                           "--layout", "flat", "-o", out)
        #expect(written.status == 0)
        #expect(written.stdoutString.isEmpty)
        let overlay = try Yams.load(yaml: try String(contentsOfFile: out, encoding: .utf8)) as? [String: Any]
        #expect(((overlay?["trino"] as? [String: Any])?["image"] as? [String: Any])?["repository"] as? String == "registry.internal.corp.com/akko/trino")

        let printed = try await self.ferry("rewrite", DiscoveryFixtures.path("ckf/bundle.yaml"), "--to", "registry.internal.corp.com/akko")
        #expect(printed.status == 0)
        #expect(printed.stdoutString.contains("oci-image: registry.internal.corp.com/akko/charmedkubeflow/admission-webhook:1.9.0-22.04"))

        #expect(try await self.ferry("rewrite", DiscoveryFixtures.path("ckf/bundle.yaml")).status == 2)
        #expect(try await self.ferry("rewrite", DiscoveryFixtures.path("ckf/bundle.yaml"), "--to", "r.example/NS").status == 2)
        #expect(try await self.ferry("rewrite", DiscoveryFixtures.path("ckf/bundle.yaml"), "--to", "r.example", "--layout", "wide").status == 2)
        #expect(try await self.ferry("rewrite", scratch.appendingPathComponent("missing.yaml").path, "--to", "r.example").status == 2)
        #expect(try await self.ferry("images", scratch.appendingPathComponent("missing.yaml").path).status == 2)

        let prometheus = scratch.appendingPathComponent("values.yaml")
        try "a: {image: quay.io/prometheus/prometheus:v3}\nb: {image: prom/prometheus:v2}\n".write(to: prometheus, atomically: true, encoding: .utf8)
        let clash = try await self.ferry("rewrite", prometheus.path, "--to", "r.example/ns", "--layout", "flat")
        #expect(clash.status == 1)
        #expect(clash.stderrString.contains("docker.io/prom/prometheus and quay.io/prometheus/prometheus would both be r.example/ns/prometheus"))
    }

    @Test("an overlay is never written over the values file it comes from: the other settings would be lost")
    func overlayOverItsSourceRefused() async throws {
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let values = scratch.appendingPathComponent("keep.yaml").path
        let original = "replicas: 3\nweb:\n  image: nginx:1.27\n"
        try original.write(toFile: values, atomically: true, encoding: .utf8)
        for output in [values, scratch.path + "/./keep.yaml"] {
            let r = try await self.ferry("rewrite", values, "--to", "r.example/ns", "-o", output)
            #expect(r.status == 2)
            #expect(r.stderrString.contains("keep-airgap.yaml"), "\(r.stderrString)")
            #expect(try String(contentsOfFile: values, encoding: .utf8) == original)
        }
        // Where the overlay cannot go, the system's reason, not Foundation's dump.
        for (output, reason) in [(scratch.path, "Is a directory"), (scratch.path + "/missing/o.yaml", "No such file or directory")] {
            let r = try await self.ferry("rewrite", values, "--to", "r.example/ns", "-o", output)
            #expect(r.status == 1)
            #expect(r.stderrString.contains("cannot write \(output): \(reason)"), "\(r.stderrString)")
        }
        // A manifest is rewritten whole: in place is the user's choice.
        let manifest = scratch.appendingPathComponent("deploy.yaml").path
        try "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        chmod(manifest, 0o600)
        #expect(try await self.ferry("rewrite", manifest, "--to", "r.example/ns", "-o", manifest).status == 0)
        #expect(try String(contentsOfFile: manifest, encoding: .utf8).contains("image: r.example/ns/nginx:1.27"))
        // Replaced, it keeps its permissions (a manifest may hold secrets).
        #expect(try FileManager.default.attributesOfItem(atPath: manifest)[.posixPermissions] as? Int == 0o600)
    }

    @Test("--quiet: images and rewrite keep stderr empty, the results unchanged")
    func quiet() async throws {
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let doubts = DiscoveryFixtures.path("values/doubts.yaml")
        let loud = try await self.ferry("images", doubts)
        let quiet = try await self.ferry("images", "-q", doubts)
        #expect(!loud.stderrString.isEmpty)
        #expect(quiet.status == 0 && quiet.stderrString.isEmpty && quiet.stdoutString == loud.stdoutString)
        let out = scratch.appendingPathComponent("o.yaml").path
        let rewritten = try await self.ferry("rewrite", "--quiet", DiscoveryFixtures.path("akko/values.yaml"), "--to", "r.example/ns", "-o", out)
        #expect(rewritten.status == 0 && rewritten.stderrString.isEmpty, "\(rewritten.stderrString)")
        #expect(FileManager.default.fileExists(atPath: out))
    }

    @Test func helpHasExamples() async throws {
        for command in ["images", "rewrite"] {
            let help = try await self.ferry(command, "--help")
            #expect(help.status == 0)
            #expect(help.stdoutString.contains("Examples:"), "\(command)")
            #expect(help.stdoutString.contains("ferry \(command) "), "\(command)")
        }
    }
}

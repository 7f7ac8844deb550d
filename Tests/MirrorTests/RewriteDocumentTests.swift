import Foundation
import OCI
import Testing
@testable import Mirror

@Suite struct RewriteDocumentTests {
    @Test func ckfBundlePointsEveryImageAtThePrivateRegistry() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("ckf/bundle.yaml"), options: RewriteTestSupport.options())
        #expect(output.kind == .file)
        #expect(output.warnings.isEmpty)
        let report = try RewriteTestSupport.discover(output.text, name: "bundle.yaml")
        #expect(RewriteTestSupport.outside(report.references) == [])
        #expect(Set(report.references.map(\.description)) == (try RewriteTestSupport.expected(DiscoveryFixtures.bundle)))
        #expect(report.images.count == (try DiscoveryFixtures.report("ckf/bundle.yaml")).images.count)
    }

    @Test func bundleIsEditedInPlace() throws {
        let source = try RewriteTestSupport.text("ckf/bundle.yaml")
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("ckf/bundle.yaml"), options: RewriteTestSupport.options())
        let before = source.split(separator: "\n", omittingEmptySubsequences: false)
        let after = output.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(before.count == after.count)
        let changed = zip(before, after).filter { $0 != $1 }
        // Every changed line held an image, and nothing else on it moved.
        #expect(changed.count == 14)
        #expect(changed.allSatisfy { old, new in old.contains("image") || old.contains("-image") })
        #expect(output.text.contains("# A revision number, not an image.\n      mysql-image: 113"))
        #expect(output.text.contains(#"oci-image: "registry.internal.corp.com/akko/charmedkubeflow/dex:2.39.1-33a3f7f""#))
        // The JSON string keeps its layout, its "" defaults and its trailing comma.
        #expect(output.text.contains(#""enas_cpu_template": "", "metrics_collector_sidecar__stdout": "registry.internal.corp.com/akko/kubeflowkatib/file-metrics-collector:v0.17.0""#))
        #expect(output.text.contains(#""suggestion__pbt": "registry.internal.corp.com/akko/kubeflowkatib/suggestion-pbt:v0.17.0", }'"#))
        #expect(output.text.contains(#"jupyter-images: '["registry.internal.corp.com/akko/kubeflownotebookswg/jupyter-scipy:v1.9.0", "#))
    }

    @Test func rewritingTwiceChangesNothing() throws {
        let once = try Rewriter().rewrite(DiscoveryFixtures.path("ckf/bundle.yaml"), options: RewriteTestSupport.options())
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("bundle.yaml")
        try once.text.write(to: file, atomically: true, encoding: .utf8)
        #expect(try Rewriter().rewrite(file.path, options: RewriteTestSupport.options()).text == once.text)
    }

    @Test func renderedManifestsKeepQuotesCommentsAndDigests() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("manifests/rendered.yaml"), options: RewriteTestSupport.options(.flat))
        let report = try RewriteTestSupport.discover(output.text, name: "rendered.yaml")
        #expect(RewriteTestSupport.outside(report.references) == [])
        #expect(Set(report.references.map(\.description)) == (try RewriteTestSupport.expected(DiscoveryFixtures.rendered, layout: .flat)))
        #expect(output.text.contains("# Source: akko/templates/cockpit.yaml"))
        #expect(output.text.contains("image: 'registry.internal.corp.com/akko/akko-postgres:2026.04'"))
        #expect(output.text.contains(#"value: "registry.internal.corp.com/akko/oauth2-proxy:v7.8.1""#))
        #expect(output.text.contains("image: registry.internal.corp.com/akko/pause:3.10@\(DiscoveryFixtures.pauseDigest)"))
        // Config file text is not an image spec and stays as it was.
        #expect(output.text.contains("    image: not-an-image:1.0\n    registry: quay.io/example/agent:2.1"))
        #expect(output.text.contains("value: qwen2.5:3b"))
    }

    @Test func kubectlListRewritesSpecsOnly() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("manifests/kubectl-list.yaml"), options: RewriteTestSupport.options())
        let report = try RewriteTestSupport.discover(output.text, name: "list.yaml")
        #expect(RewriteTestSupport.outside(report.references) == [])
        #expect(report.images.count == 3)
        #expect(output.text.contains("image: docker.io/ollama/ollama:0.6.2\n          imageID:"))
    }

    @Test func scalarsThatCannotBeEditedInPlaceAreWrittenByTheLibrary() throws {
        // An escape inside the reference: the text does not hold the reference, so the tree is written instead.
        let manifest = """
            # comment that the YAML library cannot keep
            apiVersion: v1
            kind: Pod
            metadata: {name: odd}
            spec:
              containers:
                - name: app
                  image: "quay.io/example/app:\\x31"
            """
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("pod.yaml")
        try manifest.write(to: file, atomically: true, encoding: .utf8)
        let output = try Rewriter().rewrite(file.path, options: RewriteTestSupport.options())
        #expect(output.warnings.count == 1)
        let report = try RewriteTestSupport.discover(output.text, name: "pod.yaml")
        #expect(report.references.map(\.description) == ["registry.internal.corp.com/akko/example/app:1"])
    }

    @Test func blockScalarsOfJSONAreEditedInPlace() throws {
        let bundle = """
            applications:
              katib-controller:
                charm: ./katib.charm
                options:
                  custom_images: |
                    {
                      "suggestion__random": "docker.io/kubeflowkatib/suggestion-hyperopt:v0.17.0",
                      "suggestion__tpe": "docker.io/kubeflowkatib/suggestion-hyperopt:v0.17.0"
                    }
                  # kept
                  other: 1
            """
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("bundle.yaml")
        try bundle.write(to: file, atomically: true, encoding: .utf8)
        let output = try Rewriter().rewrite(file.path, options: RewriteTestSupport.options())
        #expect(output.warnings.isEmpty)
        #expect(output.text == bundle.replacingOccurrences(of: "docker.io/kubeflowkatib/", with: "registry.internal.corp.com/akko/kubeflowkatib/"))
    }
}

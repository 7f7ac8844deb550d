import Foundation
import OCI
import Testing
@testable import Mirror

@Suite struct DiscoveryBundleTests {
    @Test func ckfBundleResourcesOptionsAndJSONStrings() throws {
        let found = try DiscoveryFixtures.references("ckf/bundle.yaml")
        #expect(found == DiscoveryFixtures.bundle, "extra: \(found.subtracting(DiscoveryFixtures.bundle).sorted()), missed: \(DiscoveryFixtures.bundle.subtracting(found).sorted())")
        #expect(try DiscoveryFixtures.report("ckf/bundle.yaml").doubts.isEmpty)
    }

    @Test func katibCustomImagesAreNamedByTheirJSONKey() throws {
        let report = try DiscoveryFixtures.report("ckf/bundle.yaml")
        let pbt = try #require(report.images.first { $0.reference.repository == "kubeflowkatib/suggestion-pbt" })
        #expect(pbt.path == "applications.katib-controller.options.custom_images.suggestion__pbt")
        let scipy = try #require(report.images.first { $0.reference.repository == "kubeflownotebookswg/jupyter-scipy" })
        #expect(scipy.path == "applications.jupyter-ui.options.jupyter-images[0]")
        // Two katib keys name the same image: both places are kept.
        #expect(report.images.filter { $0.reference.repository == "kubeflowkatib/file-metrics-collector" }.count == 2)
    }

    @Test func optionsThatOnlyLookLikeImagesAreDoubts() throws {
        let report = try DiscoveryFixtures.report(yaml: """
            applications:
              app:
                charm: ./app.charm
                resources:
                  oci-image: ""
                  charm-data: 3
                options:
                  mirror: quay.io/example/agent:2.1
                  settings: '{"sidecar": "ghcr.io/example/sidecar:1", "model": "qwen2.5:3b"}'
                  broken-image: '{"a": '
            """, name: "bundle.yaml")
        #expect(report.images.isEmpty)
        #expect(report.doubts.map(\.path).sorted() == [
            "applications.app.options.broken-image",
            "applications.app.options.mirror",
            "applications.app.options.settings.sidecar",
        ])
    }

    @Test func trailingCommasInJSONAreTolerated() {
        #expect(EmbeddedImages.jsonLeaves(in: #"{"a": "x:1", "b": ["y:2", ], }"#)?.map(\.text).sorted() == ["x:1", "y:2"])
        #expect(EmbeddedImages.jsonLeaves(in: #"{"a": "x,}"}"#)?.map(\.text) == ["x,}"])
        #expect(EmbeddedImages.jsonLeaves(in: "plain") == nil)
    }

    @Test func replacingMatchesWholeReferencesOnly() {
        let text = #"{"a": "app:1", "b": "app:10", "c": "myapp:1", "d": "x/app:1"}"#
        let (result, count) = EmbeddedImages.replacing([("app:1", "r.io/ns/app:1")], in: text)
        #expect(count == 1)
        #expect(result == #"{"a": "r.io/ns/app:1", "b": "app:10", "c": "myapp:1", "d": "x/app:1"}"#)
    }
}

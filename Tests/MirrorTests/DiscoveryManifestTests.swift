import Foundation
import OCI
import Testing
@testable import Mirror

@Suite struct DiscoveryManifestTests {
    @Test func renderedManifestsEveryWorkloadKind() throws {
        let found = try DiscoveryFixtures.references("manifests/rendered.yaml")
        #expect(found == DiscoveryFixtures.rendered, "extra: \(found.subtracting(DiscoveryFixtures.rendered).sorted()), missed: \(DiscoveryFixtures.rendered.subtracting(found).sorted())")
        #expect(try DiscoveryFixtures.report("manifests/rendered.yaml").doubts.isEmpty)
    }

    @Test func pathsNameTheContainer() throws {
        let report = try DiscoveryFixtures.report("manifests/rendered.yaml")
        func paths(_ reference: String) -> [String] {
            report.images.filter { $0.reference.description == reference }.map { "\($0.document):\($0.path)" }
        }
        #expect(paths("docker.io/library/busybox:1.36") == ["0:spec.template.spec.initContainers[0].image"])
        #expect(paths("docker.io/minio/mc:RELEASE.2025-02-15T09-18-34Z") == ["4:spec.jobTemplate.spec.template.spec.containers[0].image"])
        #expect(paths("docker.io/nicolaka/netshoot:v0.13") == ["5:spec.ephemeralContainers[0].image"])
        #expect(paths("quay.io/oauth2-proxy/oauth2-proxy:v7.8.1") == ["0:spec.template.spec.containers[0].env[0].value"])
    }

    @Test func kubectlListSkipsStatusAndAnnotations() throws {
        #expect(try DiscoveryFixtures.references("manifests/kubectl-list.yaml") == [
            "quay.io/keycloak/keycloak:26.2.4", "docker.io/ollama/ollama:0.6.2",
        ])
        let report = try DiscoveryFixtures.report("manifests/kubectl-list.yaml")
        #expect(report.images.map(\.path).sorted() == [
            "items[0].spec.template.spec.containers[0].image",
            "items[1].spec.containers[0].image",
            "items[1].spec.initContainers[0].image",
        ])
    }

    @Test func directoryOfFilesIsReadWhole() throws {
        let found = try DiscoveryFixtures.references("manifests", "lists")
        #expect(found.isSuperset(of: DiscoveryFixtures.rendered))
        #expect(found.contains("ghcr.io/berriai/litellm:main-v1.65.4"))
        #expect(found.contains("quay.io/keycloak/keycloak:26.2.4"))
    }

    @Test func imageVolumesAndCustomResources() throws {
        let report = try DiscoveryFixtures.report(yaml: """
            apiVersion: v1
            kind: Pod
            metadata: {name: models}
            spec:
              containers: [{name: app, image: "app:1"}]
              volumes:
                - name: weights
                  image: {reference: "quay.io/example/weights:v1", pullPolicy: IfNotPresent}
            ---
            apiVersion: monitoring.coreos.com/v1
            kind: Prometheus
            metadata: {name: main}
            spec:
              image: quay.io/prometheus/prometheus:v3.2.1
            """, name: "objects.yaml")
        #expect(Set(report.references.map(\.description)) == [
            "docker.io/library/app:1", "quay.io/example/weights:v1", "quay.io/prometheus/prometheus:v3.2.1",
        ])
    }
}

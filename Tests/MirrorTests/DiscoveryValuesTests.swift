import Foundation
import OCI
import Testing
@testable import Mirror

@Suite struct DiscoveryValuesTests {
    @Test func akkoValuesGiveTheGuidesImagesExactly() throws {
        let found = try DiscoveryFixtures.references("akko/values.yaml")
        #expect(found.subtracting(DiscoveryFixtures.akko).isEmpty, "not expected: \(found.subtracting(DiscoveryFixtures.akko).sorted())")
        #expect(DiscoveryFixtures.akko.subtracting(found).isEmpty, "missed: \(DiscoveryFixtures.akko.subtracting(found).sorted())")
        #expect(try DiscoveryFixtures.report("akko/values.yaml").doubts.isEmpty)
    }

    @Test func akkoPlacesAreNamedByFileAndPath() throws {
        let report = try DiscoveryFixtures.report("akko/values.yaml")
        func places(_ reference: String) -> [String] {
            report.images.filter { $0.reference.description == reference }.map { "\($0.path)@\($0.line ?? 0)" }.sorted()
        }
        #expect(places("quay.io/jupyterhub/k8s-hub:4.1.0") == ["jupyterhub.hub.image@154"])
        #expect(places("docker.io/apache/airflow:3.0.1") == ["airflow.defaultAirflowRepository@180"])
        #expect(places("docker.io/library/akko-airflow:2026.04") == ["airflow.images.pod_template@187"])
        #expect(places("docker.io/minio/mc:RELEASE.2025-02-15T09-18-34Z") == ["minio.mcImage@203"])
        #expect(places("docker.io/library/akko-spark:2026.04") == ["akko-spark.image@29", "jupyterhub.singleuser.profileList[0].kubespawner_override.image@165"])
        #expect(places("docker.io/library/akko-postgres:2026.04").count == 2)
        #expect(report.images.allSatisfy { $0.file == DiscoveryFixtures.path("akko/values.yaml") && !$0.tagInferred })
    }

    @Test func modelNamesUrlsSwitchesAndNumbersAreNotImages() throws {
        let report = try DiscoveryFixtures.report(yaml: """
            ollama:
              models: [qwen2.5-coder:7b, "qwen2.5:3b", nomic-embed-text]
              defaultModel: ollama/qwen2.5:3b
              baseUrl: http://akko-ollama:11434
              useCustomImage: true
              pullImage: false
              replicaImage: 3
              imagePullPolicy: Always
              imagePullSecrets: [{name: regcred}]
            """)
        #expect(report.images.isEmpty)
        #expect(report.doubts.isEmpty)
    }

    @Test func imageKeysInEveryShape() throws {
        let report = try DiscoveryFixtures.report(yaml: """
            a: {image: "nginx"}
            b: {image: {repository: example/b, tag: "1", digest: "\(DiscoveryFixtures.pauseDigest)"}}
            c: {image: {registry: "ghcr.io/", repository: example/c, tag: v2}}
            d: {backupImage: {name: example/d, tag: "3"}}
            e: {defaultEngineRepository: example/e, defaultEngineTag: "4"}
            f: {images: {web: {repository: example/f, tag: "5"}, off: {repository: null, tag: null}}}
            g: {sidecar_image: example/g:6, helper-image: example/h:7}
            i: {images: [example/i:8, example/j:9]}
            ---
            second: {image: example/k:10}
            """)
        #expect(Set(report.references.map(\.description)) == [
            "docker.io/library/nginx:latest",
            "docker.io/example/b:1@\(DiscoveryFixtures.pauseDigest)",
            "ghcr.io/example/c:v2",
            "docker.io/example/d:3",
            "docker.io/example/e:4",
            "docker.io/example/f:5",
            "docker.io/example/g:6",
            "docker.io/example/h:7",
            "docker.io/example/i:8",
            "docker.io/example/j:9",
            "docker.io/example/k:10",
        ])
        #expect(report.doubts.isEmpty)
    }

    @Test func globalRegistryAppliesToRepositoriesWithoutTheirOwn() throws {
        #expect(try DiscoveryFixtures.references("values/global-registry.yaml") == [
            "docker.io/bitnami/postgresql:17.2.0",
            "mirror.example.com/bitnami/redis:7.4.2",
            "mirror.example.com/bitnami/redis-exporter:1.67.0",
        ])
        let report = try DiscoveryFixtures.report(yaml: """
            global: {image: {registry: "registry.corp.example/akko/"}}
            app: {image: {repository: app, tag: "1"}}
            hub: {image: {name: hub, tag: "2"}}
            """)
        // A global registry is the Bitnami `repository` convention; JupyterHub's `name` does not take it.
        #expect(Set(report.references.map(\.description)) == ["registry.corp.example/akko/app:1", "docker.io/library/hub:2"])
    }

    @Test func doubtsAreListedWithTheirPlaces() throws {
        let report = try DiscoveryFixtures.report("values/doubts.yaml")
        #expect(Set(report.references.map(\.description)) == [
            "docker.io/example/app:latest", "docker.io/example/legacy:1.10", "docker.io/example/ok:1.0",
        ])
        let doubts = report.doubts.map { "\($0.line ?? 0) \($0.path) \($0.value)" }.sorted()
        #expect(doubts == [
            "11 legacy.image.tag 1.10",
            "14 sidecar.image {{ .Values.global.sidecar }}",
            "17 backup.agent quay.io/example/backup-agent:2.1",
            "4 app.image.repository example/app",
        ])
        #expect(report.doubts.first { $0.path == "legacy.image.tag" }?.reason.contains("1.1") == true)
    }

    @Test func plainListsAndTopLevelSequences() throws {
        #expect(try DiscoveryFixtures.references("lists/images.txt") == [
            "docker.io/library/busybox:1.36",
            "quay.io/keycloak/keycloak:26.2.4",
            "registry.k8s.io/pause@\(DiscoveryFixtures.pauseDigest)",
            "ghcr.io/berriai/litellm:main-v1.65.4",
        ])
        let list = try DiscoveryFixtures.report(yaml: "- nginx:1.27\n- quay.io/x/y:2\n", name: "images.yaml")
        #expect(Set(list.references.map(\.description)) == ["docker.io/library/nginx:1.27", "quay.io/x/y:2"])
        let bad = try DiscoveryFixtures.report(yaml: "nginx:1.27\nNot/Valid:x\n", name: "list.txt")
        #expect(bad.references.map(\.description) == ["docker.io/library/nginx:1.27"])
        #expect(bad.doubts.map(\.line) == [2])
    }

    @Test("a values file that is not valid YAML is an error saying where, not an empty plain list")
    func invalidYAMLIsAnError() throws {
        for (yaml, expected) in [
            ("image:\n  repository: nginx\nresources:\n\tlimits: {}\n", "line 4, column 1: found character that cannot start any token"),
            ("image: nginx:1.0\nimage: redis:7\n", "'image'"),
            ("image: [unclosed\n", "did not find expected ',' or ']'"),
        ] {
            let error = try #require(throws: MirrorError.self) { try DiscoveryFixtures.report(yaml: yaml, name: "values.yaml") }
            #expect(error.message.contains("values.yaml is not valid YAML"), "\(error.message)")
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("a list of images holds strings or images in parts, name/tag as well as repository/tag; a name beside an image, or kustomize's entries, are not images")
    func imageListsOfParts() throws {
        let report = try DiscoveryFixtures.report(yaml: """
            images:
              - alpine:3.20
              - name: foo/bar
                tag: v1
              - repository: quay.io/x/y
                tag: "2"
            kustomize:
              images:
                - name: nginx
                  newName: registry.example/nginx
                  newTag: "1.27"
            sidecarImages:
              - name: web
                image: example/web:3
            """)
        #expect(Set(report.references.map(\.description)) == [
            "docker.io/library/alpine:3.20", "docker.io/foo/bar:v1", "quay.io/x/y:2", "docker.io/example/web:3",
        ])
        #expect(report.images.first { $0.reference.description == "docker.io/foo/bar:v1" }?.path == "images[1]")
    }

    @Test("an unquoted number is printed by Helm as Go's %v prints a float64, which is what the chart pulls")
    func helmPrintsNumbersAsGoFloats() throws {
        for (text, printed) in [
            ("1.10", "1.1"), ("3.0", "3"), ("8", "8"), ("123456", "123456"), ("1234567", "1.234567e+06"),
            ("20240101", "2.0240101e+07"), ("1000000", "1e+06"), ("0.0001", "0.0001"), ("0.00001", "1e-05"), ("-2.5", "-2.5"),
            ("12345678901234567890123", "1.2345678901234568e+22"),
        ] {
            #expect(ImageWalker.helmRendering(ofNumber: text) == printed, "\(text)")
        }
        let report = try DiscoveryFixtures.report(yaml: "app:\n  image:\n    repository: myorg/app\n    tag: 20240101\n")
        #expect(report.doubts.first?.reason.contains("2.0240101e+07") == true, "\(report.doubts)")
        let small = try DiscoveryFixtures.report(yaml: "app:\n  image:\n    repository: myorg/app\n    tag: 42\n")
        #expect(small.doubts.isEmpty)
    }

    @Test func yamlMergeKeysAreExpanded() throws {
        let report = try DiscoveryFixtures.report(yaml: """
            defaults: &defaults
              image: {repository: example/base, tag: "1"}
            worker:
              <<: *defaults
              replicas: 2
            """)
        #expect(report.images.map(\.path).sorted() == ["defaults.image", "worker.image"])
    }
}

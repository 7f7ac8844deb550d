import Foundation
import OCI
import Testing
import Yams
@testable import Mirror

@Suite struct RewriteValuesTests {
    @Test(arguments: NamingLayout.allCases)
    func akkoOverlayMergedOverTheValuesLeavesNothingOutside(layout: NamingLayout) throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("akko/values.yaml"), options: RewriteTestSupport.options(layout))
        #expect(output.kind == .overlay)
        let merged = try RewriteTestSupport.merged(values: try RewriteTestSupport.text("akko/values.yaml"), overlay: output.text)
        let found = try RewriteTestSupport.discover(merged).references
        #expect(RewriteTestSupport.outside(found) == [])
        #expect(Set(found.map(\.description)) == (try RewriteTestSupport.expected(DiscoveryFixtures.akko, layout: layout)))
    }

    @Test func akkoOverlayKeepsTheSourcesKeysLikeTheGuide() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("akko/values.yaml"), options: RewriteTestSupport.options(.flat))
        let overlay = try #require(try Yams.load(yaml: output.text) as? [String: Any])
        func value(_ path: String) -> Any? {
            path.split(separator: ".").reduce(overlay as Any?) { ($0 as? [String: Any])?[String($1)] }
        }
        // The AKKO guide's values-airgapped.yaml, key for key.
        #expect(value("akko-keycloak.image.repository") as? String == "registry.internal.corp.com/akko/keycloak")
        #expect(value("akko-keycloak.image.tag") as? String == "26.2.4")
        #expect(value("jupyterhub.hub.image.name") as? String == "registry.internal.corp.com/akko/k8s-hub")
        #expect(value("jupyterhub.hub.image.tag") as? String == "4.1.0")
        #expect(value("trino.image.repository") as? String == "registry.internal.corp.com/akko/trino")
        #expect(value("trino.image.tag") as? String == "473")
        #expect(value("airflow.defaultAirflowRepository") as? String == "registry.internal.corp.com/akko/airflow")
        #expect(value("airflow.defaultAirflowTag") as? String == "3.0.1")
        #expect(value("minio.mcImage.repository") as? String == "registry.internal.corp.com/akko/mc")
        #expect(value("akko-postgres.image.tag") as? String == "2026.04")
        // `image:` strings stay strings; a map with its own registry keeps it.
        #expect(value("akko-ai-service.image") as? String == "registry.internal.corp.com/akko/akko-ai-service:2026.04")
        #expect(value("traefik.image.registry") as? String == "registry.internal.corp.com")
        #expect(value("traefik.image.repository") as? String == "akko/traefik")
        // Only images are written: no replicas, no switches, no global.
        #expect(value("akko-docs.replicas") == nil)
        #expect(value("global") == nil)
        #expect(value("akko-ollama.modelPull") == nil)
        // A list is replaced whole by Helm, so it is written whole.
        let profiles = try #require(value("jupyterhub.singleuser.profileList") as? [[String: Any]])
        #expect(profiles.count == 2)
        #expect((profiles[0]["kubespawner_override"] as? [String: Any])?["image"] as? String == "registry.internal.corp.com/akko/akko-spark:2026.04")
        #expect(profiles[1]["display_name"] as? String == "Default")
        // Keys come in the source's order.
        let keys = output.text.split(separator: "\n").filter { !$0.hasPrefix(" ") && !$0.hasPrefix("#") }.map { String($0.prefix { $0 != ":" }) }
        #expect(keys.prefix(3) == ["akko-postgres", "akko-postgres-data", "akko-spark"])
        #expect(output.text.hasPrefix("# Written by ferry rewrite"))
    }

    @Test func globalRegistryIsSetWhereTheSourceSetIt() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("values/global-registry.yaml"), options: RewriteTestSupport.options())
        let overlay = try #require(try Yams.load(yaml: output.text) as? [String: Any])
        #expect((overlay["global"] as? [String: Any])?["imageRegistry"] as? String == "registry.internal.corp.com")
        let redis = (overlay["redis"] as? [String: Any])?["image"] as? [String: Any]
        #expect(redis?["repository"] as? String == "akko/bitnami/redis")
        let merged = try RewriteTestSupport.merged(values: try RewriteTestSupport.text("values/global-registry.yaml"), overlay: output.text)
        let found = try RewriteTestSupport.discover(merged).references
        #expect(RewriteTestSupport.outside(found) == [])
        #expect(Set(found.map(\.description)) == [
            "registry.internal.corp.com/akko/bitnami/postgresql:17.2.0",
            "registry.internal.corp.com/akko/bitnami/redis:7.4.2",
            "registry.internal.corp.com/akko/bitnami/redis-exporter:1.67.0",
        ])
    }

    @Test func chartOverlayMergedIntoTheUmbrellaLeavesOnlyTheTemplateLiteral() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("charts/akko"), options: RewriteTestSupport.options())
        #expect(output.warnings.count == 1)
        #expect(output.warnings.first?.contains("busybox:1.36") == true)

        // Helm would merge the overlay over the umbrella's values: do that in a copy of the chart.
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let chart = scratch.appendingPathComponent("akko")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: DiscoveryFixtures.path("charts/akko")), to: chart)
        let merged = try RewriteTestSupport.merged(values: try RewriteTestSupport.text("charts/akko/values.yaml"), overlay: output.text)
        try merged.write(to: chart.appendingPathComponent("values.yaml"), atomically: true, encoding: .utf8)

        let report = try ImageDiscovery().discover([chart.path])
        let fromValues = report.images.filter { $0.note == nil }.map(\.reference)
        #expect(RewriteTestSupport.outside(fromValues) == [])
        var expected = DiscoveryFixtures.chart
        expected.remove("docker.io/library/busybox:1.36")
        #expect(Set(fromValues.map(\.description)) == (try RewriteTestSupport.expected(expected)))
        #expect(report.images.filter { $0.note != nil }.map(\.reference.description) == ["docker.io/library/busybox:1.36"])

        // Subchart images are set under the subchart's key (or alias) in the umbrella.
        let overlay = try #require(try Yams.load(yaml: output.text) as? [String: Any])
        #expect(((overlay["objectstore"] as? [String: Any])?["mcImage"] as? [String: Any])?["repository"] as? String
            == "registry.internal.corp.com/akko/minio/mc")
        #expect(((overlay["trino"] as? [String: Any])?["image"] as? [String: Any])?["registry"] as? String == "registry.internal.corp.com")
    }

    @Test func mapPinsDigestsInEveryShape() throws {
        let digest = try Digest(DiscoveryFixtures.pauseDigest)
        let naming = TargetNaming(destination: RewriteTestSupport.destination)
        let map = try DiscoveryFixtures.akko.map { source in
            let reference = try Reference(parsing: source)
            return ImageMapEntry(source: reference, target: try naming.target(for: reference), digest: digest)
        }
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("akko/values.yaml"), options: RewriteOptions(naming: nil, map: map))
        let merged = try RewriteTestSupport.merged(values: try RewriteTestSupport.text("akko/values.yaml"), overlay: output.text)
        let found = try RewriteTestSupport.discover(merged).references
        #expect(RewriteTestSupport.outside(found) == [])
        #expect(found.count == DiscoveryFixtures.akko.count)
        #expect(found.allSatisfy { $0.digest == digest && $0.tag != nil })
        #expect(output.text.contains("tag: \"26.2.4@\(digest)\""))
        #expect(output.text.contains("image: registry.internal.corp.com/akko/akko-ai-service:2026.04@\(digest)"))

        do {
            _ = try Rewriter().rewrite(DiscoveryFixtures.path("akko/values.yaml"), options: RewriteOptions(naming: nil, map: Array(map.dropFirst(2))))
            Issue.record("images missing from the map were not refused")
        } catch {
            #expect(error.code == .failed)
            #expect(error.message.contains("2 images are not in the map"))
        }
    }

    @Test func collisionsAreRefusedBeforeAnythingIsWritten() throws {
        let values = """
            prometheus: {image: {repository: quay.io/prometheus/prometheus, tag: v3.2.1}}
            legacy: {image: prom/prometheus:v2.55.1}
            """
        let scratch = try RewriteTestSupport.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("values.yaml")
        try values.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: MirrorError.self) { try Rewriter().rewrite(file.path, options: RewriteTestSupport.options(.flat)) }
        #expect(try Rewriter().rewrite(file.path, options: RewriteTestSupport.options(.path)).targets.count == 2)
    }

    @Test func directoriesOfSeveralFilesAreRefused() throws {
        #expect {
            try Rewriter().rewrite(DiscoveryFixtures.path("manifests"), options: RewriteTestSupport.options())
        } throws: { error in
            (error as? MirrorError)?.code == .usage
        }
    }

    @Test func plainListsBecomeListsOfTargets() throws {
        let output = try Rewriter().rewrite(DiscoveryFixtures.path("lists/images.txt"), options: RewriteTestSupport.options())
        #expect(output.kind == .list)
        let lines = output.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("# Extra images"))
        #expect(lines[1] == "registry.internal.corp.com/akko/busybox:1.36")
        #expect(lines[2] == "registry.internal.corp.com/akko/keycloak/keycloak:26.2.4   # the transport prefix is accepted")
        #expect(lines[3] == "")
        #expect(lines[4] == "registry.internal.corp.com/akko/pause@\(DiscoveryFixtures.pauseDigest)")
    }
}

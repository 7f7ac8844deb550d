import Foundation
import OCI
import Spawn
import Testing
@testable import Mirror

@Suite struct DiscoveryChartTests {
    @Test func chartWithDirectoryAliasedAndArchivedSubcharts() throws {
        let found = try DiscoveryFixtures.references("charts/akko")
        #expect(found == DiscoveryFixtures.chart, "extra: \(found.subtracting(DiscoveryFixtures.chart).sorted()), missed: \(DiscoveryFixtures.chart.subtracting(found).sorted())")
    }

    @Test func emptyTagsTakeTheOwningChartsAppVersionAndAreMarked() throws {
        let report = try DiscoveryFixtures.report("charts/akko")
        let inferred = Set(report.images.filter(\.tagInferred).map(\.reference.description))
        #expect(inferred == ["docker.io/library/akko-cockpit:2026.04", "docker.io/trinodb/trino:473"])
        let trino = try #require(report.images.first { $0.reference.description == "docker.io/trinodb/trino:473" })
        #expect(trino.file == DiscoveryFixtures.path("charts/akko") + "/charts/trino-1.38.0.tgz/trino/values.yaml")
        #expect(trino.path == "image")
        #expect(report.doubts.isEmpty)
    }

    @Test func parentValuesOverrideSubchartDefaults() throws {
        let report = try DiscoveryFixtures.report("charts/akko")
        // The umbrella replaces JupyterHub's sample notebook image: the default is not needed.
        #expect(!report.references.contains { $0.repository == "jupyterhub/k8s-singleuser-sample" })
        let notebook = try #require(report.images.first { $0.reference.description == "docker.io/library/akko-notebook:2026.04" })
        #expect(notebook.file == DiscoveryFixtures.path("charts/akko/values.yaml"))
        #expect(notebook.path == "jupyterhub.singleuser.image")
        // Under an alias, only the tag is overridden: the repository comes from the subchart's file.
        let mc = try #require(report.images.first { $0.reference.repository == "minio/mc" })
        #expect(mc.reference.tag == "RELEASE.2025-02-15T09-18-34Z")
        #expect(mc.file == DiscoveryFixtures.path("charts/akko/charts/minio/values.yaml"))
        #expect(mc.path == "mcImage")
        let hub = try #require(report.images.first { $0.reference.repository == "jupyterhub/k8s-hub" })
        #expect(hub.file == DiscoveryFixtures.path("charts/akko/charts/jupyterhub/values.yaml") && hub.path == "hub.image" && hub.line == 4)
    }

    @Test func literalTemplateImagesAreFoundAndMarked() throws {
        let report = try DiscoveryFixtures.report("charts/akko")
        let busybox = try #require(report.images.first { $0.reference.description == "docker.io/library/busybox:1.36" })
        #expect(busybox.file == DiscoveryFixtures.path("charts/akko/templates/cockpit.yaml"))
        #expect(busybox.line == 10)
        #expect(busybox.note == TemplateScanner.note)
    }

    @Test func chartGivenAsArchiveOrChartYaml() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-chart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // `helm package` output: the whole umbrella, subcharts included, as one .tgz made here.
        let archive = scratch.appendingPathComponent("akko-0.1.0.tgz").path
        let tar = try Command(["/bin/tar", "-czf", archive, "-C", DiscoveryFixtures.path("charts"), "akko"]).runBlocking()
        #expect(tar.status.succeeded, "\(tar.stderrString)")
        #expect(Set(try ImageDiscovery().discover([archive]).references.map(\.description)) == DiscoveryFixtures.chart)
        #expect(try DiscoveryFixtures.references("charts/akko/Chart.yaml") == DiscoveryFixtures.chart)
    }

    @Test func valuesFileInsideAChartTakesItsAppVersion() throws {
        let report = try DiscoveryFixtures.report("charts/akko/values.yaml")
        #expect(report.images.first { $0.reference.repository == "library/akko-cockpit" }?.tagInferred == true)
        #expect(Set(report.references.map(\.description)) == [
            "docker.io/library/akko-cockpit:2026.04", "docker.io/curlimages/curl:8.12.1", "docker.io/library/akko-notebook:2026.04",
        ])
    }

    @Test func brokenArchiveFailsWithItsName() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-chart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let archive = scratch.appendingPathComponent("broken-1.0.tgz")
        try Data("not gzip".utf8).write(to: archive)
        #expect {
            try ImageDiscovery().discover([archive.path])
        } throws: { error in
            (error as? MirrorError)?.message.contains("broken-1.0.tgz") == true
        }
    }

    @Test func directoryScansPassOverArchivesThatAreNotCharts() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-chart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        _ = try Command(["/bin/tar", "-czf", scratch.appendingPathComponent("notes.tgz").path, "-C", DiscoveryFixtures.path("lists"), "images.txt"])
            .runBlocking()
        try FileManager.default.copyItem(atPath: DiscoveryFixtures.path("akko/values.yaml"), toPath: scratch.appendingPathComponent("values.yaml").path)
        #expect(Set(try ImageDiscovery().discover([scratch.path]).references.map(\.description)) == DiscoveryFixtures.akko)
        // Named on its own, it is an error: the user meant it to be a chart.
        #expect(throws: MirrorError.self) { try ImageDiscovery().discover([scratch.appendingPathComponent("notes.tgz").path]) }
    }
}

import Foundation
import OCI
import Testing
@testable import Mirror

@Suite struct NamingTests {
    let destination = Destination(registry: "registry.internal.corp.com", namespace: "akko")

    func target(_ source: String, _ layout: NamingLayout, to destination: Destination? = nil) throws -> String {
        let naming = TargetNaming(destination: destination ?? self.destination, layout: layout)
        return try naming.target(for: try Reference(parsing: source)).description
    }

    @Test func pathLayoutDropsHostAndLibrary() throws {
        #expect(try self.target("quay.io/keycloak/keycloak:26.2.4", .path) == "registry.internal.corp.com/akko/keycloak/keycloak:26.2.4")
        #expect(try self.target("nginx", .path) == "registry.internal.corp.com/akko/nginx:latest")
        #expect(try self.target("apache/airflow:3.0.1", .path) == "registry.internal.corp.com/akko/apache/airflow:3.0.1")
        #expect(try self.target("registry.k8s.io/pause:3.10@\(DiscoveryFixtures.pauseDigest)", .path)
            == "registry.internal.corp.com/akko/pause:3.10@\(DiscoveryFixtures.pauseDigest)")
    }

    @Test func flatLayoutKeepsTheLastElementAsTheAKKOGuideDoes() throws {
        #expect(try self.target("quay.io/keycloak/keycloak:26.2.4", .flat) == "registry.internal.corp.com/akko/keycloak:26.2.4")
        #expect(try self.target("minio/mc:RELEASE.2025-02-15T09-18-34Z", .flat) == "registry.internal.corp.com/akko/mc:RELEASE.2025-02-15T09-18-34Z")
        #expect(try self.target("akko-postgres:2026.04", .flat) == "registry.internal.corp.com/akko/akko-postgres:2026.04")
    }

    @Test func scopedLayoutKeepsTheHost() throws {
        #expect(try self.target("quay.io/keycloak/keycloak:26.2.4", .scoped) == "registry.internal.corp.com/akko/quay.io/keycloak/keycloak:26.2.4")
        #expect(try self.target("nginx:1.27", .scoped) == "registry.internal.corp.com/akko/docker.io/library/nginx:1.27")
        #expect(try self.target("localhost:5000/app:1", .scoped) == "registry.internal.corp.com/akko/localhost-5000/app:1")
    }

    @Test func withoutNamespaceAndAlreadyThere() throws {
        let bare = Destination(registry: "127.0.0.1:5000")
        #expect(try self.target("quay.io/keycloak/keycloak:26.2.4", .path, to: bare) == "127.0.0.1:5000/keycloak/keycloak:26.2.4")
        #expect(try self.target("nginx", .flat, to: bare) == "127.0.0.1:5000/nginx:latest")
        // Rewriting twice changes nothing.
        #expect(try self.target("registry.internal.corp.com/akko/keycloak/keycloak:26.2.4", .path) == "registry.internal.corp.com/akko/keycloak/keycloak:26.2.4")
    }

    @Test func destinationsParse() throws {
        let akko = try Destination(parsing: "registry.internal.corp.com/akko")
        #expect(akko.registry == "registry.internal.corp.com" && akko.namespace == "akko")
        let nested = try Destination(parsing: "docker://127.0.0.1:5000/team/akko/")
        #expect(nested.registry == "127.0.0.1:5000" && nested.namespace == "team/akko")
        let single = try Destination(parsing: "registry")
        #expect(single.registry == "registry" && single.namespace.isEmpty)
        #expect(try Destination(parsing: "index.docker.io/me").registry == "docker.io")
        for bad in ["", "/", "registry.example.com/Akko", "registry.example.com/akko:1", "r.io/a@sha256:00", "bad host/x", "r.io//x"] {
            #expect(throws: MirrorError.self, "\(bad)") { try Destination(parsing: bad) }
            #expect((try? Destination(parsing: bad)) == nil)
        }
        do {
            _ = try Destination(parsing: "registry.example.com/Akko")
        } catch {
            #expect(error.code == .usage)
        }
    }

    @Test func twoSourcesForOneTargetAreRefusedNamingBoth() throws {
        let sources = try ["quay.io/prometheus/prometheus:v3.2.1", "prom/prometheus:v2.55.1", "grafana/grafana:11.5.2"]
            .map { try Reference(parsing: $0) }
        let flat = TargetNaming(destination: self.destination, layout: .flat)
        do {
            _ = try flat.targets(for: sources)
            Issue.record("a collision was not refused")
        } catch {
            #expect(error.code == .failed)
            #expect(error.message.contains("docker.io/prom/prometheus and quay.io/prometheus/prometheus"))
            #expect(error.message.contains("registry.internal.corp.com/akko/prometheus"))
            #expect(error.message.contains("--layout path"))
        }
        // With the path kept they no longer meet.
        #expect(try TargetNaming(destination: self.destination, layout: .path).targets(for: sources).count == 3)

        let sameRepository = try ["quay.io/org/app:1", "ghcr.io/org/app:2"].map { try Reference(parsing: $0) }
        #expect(throws: MirrorError.self) { try TargetNaming(destination: self.destination).targets(for: sameRepository) }
        #expect(try TargetNaming(destination: self.destination, layout: .scoped).targets(for: sameRepository).count == 2)
    }

    @Test func tagsOfOneRepositoryDoNotCollide() throws {
        let sources = try ["minio/minio:RELEASE.2025-02-18T16-25-55Z", "minio/minio:RELEASE.2024-12-18T13-15-44Z"].map { try Reference(parsing: $0) }
        #expect(try TargetNaming(destination: self.destination, layout: .flat).targets(for: sources).count == 2)
    }

    @Test func theAKKOSetFitsEveryLayout() throws {
        let sources = try DiscoveryFixtures.akko.map { try Reference(parsing: $0) }
        for layout in NamingLayout.allCases {
            let targets = try TargetNaming(destination: self.destination, layout: layout).targets(for: sources)
            #expect(Set(targets.values).count == sources.count)
            #expect(targets.values.allSatisfy { self.destination.contains($0) })
        }
    }

    @Test func mapFilesRoundTripAndAnswerByTagOrDigest() throws {
        let digest = try Digest(DiscoveryFixtures.pauseDigest)
        let entries = [
            ImageMapEntry(source: try Reference(parsing: "quay.io/keycloak/keycloak:26.2.4"),
                          target: try Reference(parsing: "registry.internal.corp.com/akko/keycloak/keycloak:26.2.4"), digest: digest),
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-map-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try ImageMap.write(entries, to: file)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains(#""source" : "quay.io/keycloak/keycloak:26.2.4""#))
        let read = try ImageMap.read(from: file)
        #expect(read == entries)
        #expect(ImageMap.entry(for: try Reference(parsing: "quay.io/keycloak/keycloak:26.2.4@\(digest)"), in: read)?.pinned.description
            == "registry.internal.corp.com/akko/keycloak/keycloak:26.2.4@\(digest)")
        #expect(ImageMap.entry(for: try Reference(parsing: "quay.io/keycloak/keycloak:26.2.3"), in: read) == nil)

        try Data(#"[{"source": "nginx", "target": "r.io/nginx", "digest": "sha256:bad"}]"#.utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: MirrorError.self) { try ImageMap.read(from: file) }
    }
}

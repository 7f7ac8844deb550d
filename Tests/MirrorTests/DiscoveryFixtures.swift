import Foundation
import OCI
@testable import Mirror

/// Finds `Tests/Fixtures` from this file's path, so the fixtures need no `resources:` in Package.swift.
enum DiscoveryFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// The distinct references found in `relative`, as full normalised strings.
    static func references(_ relative: String...) throws -> Set<String> {
        Set(try ImageDiscovery().discover(relative.map(path)).references.map(\.description))
    }

    static func report(_ relative: String...) throws -> DiscoveryReport {
        try ImageDiscovery().discover(relative.map(path))
    }

    /// The references found in YAML text written to a temporary file.
    static func report(yaml: String, name: String = "values.yaml") throws -> DiscoveryReport {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-discovery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return try ImageDiscovery().discover([file.path])
    }

    /// The AKKO values fixture: the guide's 11 custom images and its community images.
    static let akko: Set<String> = [
        "docker.io/library/akko-postgres:2026.04",
        "docker.io/library/akko-spark:2026.04",
        "docker.io/library/akko-cockpit:2026.04",
        "docker.io/library/akko-mlflow:2026.04",
        "docker.io/library/akko-ai-service:2026.04",
        "docker.io/library/akko-dbt:2026.04",
        "docker.io/library/akko-mcp-trino:2026.04",
        "docker.io/library/akko-mcp-openmetadata:2026.04",
        "docker.io/library/akko-notebook:2026.04",
        "docker.io/library/akko-trino:2026.04",
        "docker.io/library/akko-airflow:2026.04",
        "quay.io/keycloak/keycloak:26.2.4",
        "docker.io/apache/polaris:1.3.0",
        "docker.io/ollama/ollama:0.6.2",
        "ghcr.io/berriai/litellm:main-v1.65.4",
        "docker.io/openpolicyagent/opa:1.4.2",
        "docker.io/lldap/lldap:v0.6.1-alpine",
        "docker.io/nginxinc/nginx-unprivileged:1.27.4-alpine",
        "docker.io/curlimages/curl:8.12.1",
        "docker.getcollate.io/openmetadata/server:1.6.5",
        "docker.io/opensearchproject/opensearch:2.19.1",
        "docker.io/library/traefik:v3.3.6",
        "quay.io/prometheus/prometheus:v3.2.1",
        "quay.io/prometheus/alertmanager:v0.28.1",
        "docker.io/grafana/grafana:11.5.2",
        "docker.io/grafana/loki:3.4.3",
        "docker.io/grafana/promtail:3.4.3",
        "quay.io/jupyterhub/k8s-hub:4.1.0",
        "docker.io/trinodb/trino:473",
        "docker.io/apache/airflow:3.0.1",
        "docker.io/apache/superset:4.1.2",
        "docker.io/minio/minio:RELEASE.2025-02-18T16-25-55Z",
        "docker.io/minio/mc:RELEASE.2025-02-15T09-18-34Z",
    ]

    /// The AKKO chart fixture: umbrella values, a directory subchart, an aliased one and a `.tgz` one.
    static let chart: Set<String> = [
        "docker.io/library/akko-cockpit:2026.04",
        "docker.io/curlimages/curl:8.12.1",
        "quay.io/jupyterhub/k8s-hub:4.1.0",
        "quay.io/jupyterhub/configurable-http-proxy:4.6.3",
        "docker.io/library/akko-notebook:2026.04",
        "quay.io/jupyterhub/k8s-network-tools:4.1.0",
        "registry.k8s.io/pause:3.10",
        "registry.k8s.io/kube-scheduler:v1.30.8",
        "quay.io/minio/minio:RELEASE.2024-12-18T13-15-44Z",
        "quay.io/minio/mc:RELEASE.2025-02-15T09-18-34Z",
        "docker.io/trinodb/trino:473",
        "docker.io/library/busybox:1.36",
    ]

    /// The CKF bundle fixture.
    static let bundle: Set<String> = [
        "docker.io/charmedkubeflow/admission-webhook:1.9.0-22.04",
        "docker.io/charmedkubeflow/workflow-controller:3.4.16-22.04",
        "docker.io/charmedkubeflow/argoexec:3.4.16-22.04",
        "docker.io/charmedkubeflow/dex:2.39.1-33a3f7f",
        "docker.io/charmedkubeflow/jupyter-web-app:1.9.0-22.04",
        "docker.io/kubeflownotebookswg/jupyter-scipy:v1.9.0",
        "docker.io/kubeflownotebookswg/jupyter-pytorch-full:v1.9.0",
        "docker.io/charmedkubeflow/katib-controller:0.17.0-d73ff5e",
        "docker.io/kubeflowkatib/mxnet-mnist:v0.17.0",
        "docker.io/kubeflowkatib/earlystopping-medianstop:v0.17.0",
        "docker.io/kubeflowkatib/file-metrics-collector:v0.17.0",
        "docker.io/kubeflowkatib/tfevent-metrics-collector:v0.17.0",
        "docker.io/kubeflowkatib/suggestion-hyperopt:v0.17.0",
        "docker.io/kubeflowkatib/suggestion-hyperband:v0.17.0",
        "docker.io/kubeflowkatib/suggestion-pbt:v0.17.0",
        "docker.io/charmedkubeflow/api-server:2.2.0-22.04",
        "gcr.io/ml-pipeline/kfp-launcher:2.2.0",
        "gcr.io/ml-pipeline/kfp-driver:2.2.0",
        "docker.io/charmedkubeflow/centraldashboard:1.9.0-22.04",
        "gcr.io/tfx-oss-public/ml_metadata_store_server:1.14.0",
        "docker.io/kubeflow/training-operator:v1-855e096",
    ]

    static let pauseDigest = "sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a"

    /// The rendered manifests fixture.
    static let rendered: Set<String> = [
        "docker.io/library/busybox:1.36",
        "registry.example.com/akko/akko-cockpit:2026.04",
        "quay.io/oauth2-proxy/oauth2-proxy:v7.8.1",
        "docker.io/library/akko-postgres:2026.04",
        "quay.io/prometheuscommunity/postgres-exporter:v0.17.1",
        "docker.io/grafana/promtail:3.4.3",
        "docker.io/library/akko-mlflow:2026.04",
        "docker.io/curlimages/curl:8.12.1",
        "docker.io/minio/mc:RELEASE.2025-02-15T09-18-34Z",
        "registry.k8s.io/pause:3.10@\(pauseDigest)",
        "docker.io/nicolaka/netshoot:v0.13",
    ]
}

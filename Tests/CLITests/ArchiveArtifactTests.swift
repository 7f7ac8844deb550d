import Foundation
import OCI
import TestSupport
import Testing

/// An OCI artifact (a Helm chart pushed with `helm push`) copies into `oci-archive:` like an image, but not into
/// `docker-archive:`, which `docker load` could not load.
@Suite struct ArchiveArtifactTests {
    /// A layout holding one Helm-chart-shaped artifact, tagged `1.0`.
    static func chartLayout(_ directory: TemporaryDirectory) throws -> String {
        let root = directory.appending("chart").path
        let blobs = root + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func put(_ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: blobs + "/" + Codec_sha256(Data(bytes))))
        }
        let config = Array(#"{"name":"akko","version":"1.0.0"}"#.utf8)
        let chart = Array("not really a chart, but bytes with a digest".utf8)
        try put(config)
        try put(chart)
        let manifest = Manifest(
            config: Descriptor(mediaType: "application/vnd.cncf.helm.config.v1+json", digest: try Digest("sha256:" + Codec_sha256(Data(config))), size: Int64(config.count)),
            layers: [Descriptor(mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest: try Digest("sha256:" + Codec_sha256(Data(chart))), size: Int64(chart.count))])
        let raw = try RawManifest(encoding: .image(manifest))
        try put(raw.bytes)
        let top = raw.descriptor(digest: try Digest("sha256:" + Codec_sha256(Data(raw.bytes))), annotations: [AnnotationKey.refName: "1.0"])
        let index = try JSONEncoder().encode(ImageIndex(mediaType: .ociIndex, manifests: [top]))
        try index.write(to: URL(fileURLWithPath: root + "/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
        return root
    }

    @Test("a chart goes into oci-archive: with its digest; docker-archive: refuses it and says what to use")
    func chart() async throws {
        let work = try TemporaryDirectory()
        let layout = try Self.chartLayout(work)
        let cli = try CLI()

        let oci = work.appending("chart.tar").path
        let ok = try await cli.run(["copy", "oci:\(layout):1.0", "oci-archive:\(oci):1.0"])
        #expect(ok.status == 0, "\(ok.stderrString)")
        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
        #expect(ok.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == index.manifests.first?.digest.description)
        let verified = try await cli.run(["verify", oci])
        #expect(verified.status == 0, "\(verified.stderrString)")

        let docker = work.appending("chart-docker.tar").path
        let refused = try await cli.run(["copy", "oci:\(layout):1.0", "docker-archive:\(docker):charts/akko:1.0"])
        #expect(refused.status == 2, "\(refused.stderrString)")
        #expect(refused.stderrString.contains("oci-archive:"))
        #expect(!FileManager.default.fileExists(atPath: docker))
    }
}

import Foundation

/// The top of an OCI image layout directory: `oci-layout` and `index.json`.
///
/// Several images can share one layout (a demo or a bundle source); writing an image replaces an entry with the
/// same tag and keeps the others. Not safe against two writers on one layout at the same time.
enum OCILayoutIndex {
    static let indexMediaType = "application/vnd.oci.image.index.v1+json"

    /// Creates `blobs/sha256` and `oci-layout` if missing; returns the blobs directory.
    static func prepare(_ layout: URL) throws -> URL {
        let blobs = layout.appendingPathComponent("blobs/sha256", isDirectory: true)
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let marker = layout.appendingPathComponent("oci-layout")
        if !FileManager.default.fileExists(atPath: marker.path) {
            try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: marker, options: .atomic)
        }
        return blobs
    }

    /// Adds `top` to `index.json` under `tag` (`org.opencontainers.image.ref.name`), replacing an entry with that tag.
    static func add(_ top: BuiltImage.Blob, tag: String, to layout: URL) throws {
        let url = layout.appendingPathComponent("index.json")
        var manifests: [[String: Any]] = []
        if let data = try? Data(contentsOf: url) {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TestSupportError("\(url.path) is not a JSON object")
            }
            manifests = (object["manifests"] as? [[String: Any]]) ?? []
        }
        manifests.removeAll { entry in
            (entry["annotations"] as? [String: Any])?[ImageJSON.refNameAnnotation] as? String == tag
        }
        manifests.append(ImageJSON.descriptor(top, extra: ["annotations": [ImageJSON.refNameAnnotation: tag]]))
        let bytes = try ImageJSON.encode([
            "schemaVersion": 2, "mediaType": self.indexMediaType, "manifests": manifests,
        ])
        try Data(bytes).write(to: url, options: .atomic)
    }
}

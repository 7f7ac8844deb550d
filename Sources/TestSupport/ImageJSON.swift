import Foundation

/// The JSON documents of a synthetic image: config, manifest, index, attestation statement.
///
/// Serialised with sorted keys and unescaped slashes so the bytes, and therefore the digests, are stable.
enum ImageJSON {
    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    static let referenceTypeAnnotation = "vnd.docker.reference.type"
    static let referenceDigestAnnotation = "vnd.docker.reference.digest"
    static let created = "2024-03-01T00:00:00Z"

    static func encode(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// `os/arch[/variant]` as the `platform` object of an index entry (and the same keys in a config).
    static func platform(_ text: String) throws -> [String: Any] {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw TestSupportError("platform \"\(text)\" is not os/arch[/variant]")
        }
        var platform: [String: Any] = ["os": parts[0], "architecture": parts[1]]
        if parts.count == 3 { platform["variant"] = parts[2] }
        return platform
    }

    static func descriptor(_ blob: BuiltImage.Blob, extra: [String: Any] = [:]) -> [String: Any] {
        var object: [String: Any] = ["mediaType": blob.mediaType, "digest": blob.digest, "size": blob.size]
        object.merge(extra) { _, new in new }
        return object
    }

    static func config(platform: String, diffIDs: [String], seed: UInt64) throws -> [UInt8] {
        var object = try self.platform(platform)
        object["created"] = self.created
        object["config"] = [
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            // The seed makes configs of different specs differ even when their layers are alike (e.g. empty).
            "Labels": ["dev.ferry.synthetic.seed": String(seed)],
        ]
        object["rootfs"] = ["type": "layers", "diff_ids": diffIDs]
        object["history"] = diffIDs.indices.map { index in
            ["created": self.created, "created_by": "ferry synthetic layer \(index)"]
        }
        return try self.encode(object)
    }

    static func manifest(mediaType: String, config: BuiltImage.Blob, layers: [[String: Any]]) throws -> [UInt8] {
        try self.encode([
            "schemaVersion": 2,
            "mediaType": mediaType,
            "config": self.descriptor(config),
            "layers": layers,
        ])
    }

    static func index(mediaType: String, manifests: [[String: Any]]) throws -> [UInt8] {
        try self.encode(["schemaVersion": 2, "mediaType": mediaType, "manifests": manifests])
    }

    /// An in-toto statement like BuildKit's SBOM attestation, about the image manifest `subject`.
    static func attestationStatement(subject: String, platform: String) throws -> [UInt8] {
        try self.encode([
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://spdx.dev/Document",
            "subject": [
                [
                    "name": "pkg:docker/ferry/synthetic?platform="
                        + platform.replacingOccurrences(of: "/", with: "%2F"),
                    "digest": ["sha256": String(subject.dropFirst("sha256:".count))],
                ]
            ],
            "predicate": ["spdxVersion": "SPDX-2.3", "name": "ferry synthetic image", "packages": [] as [Any]],
        ])
    }

    /// Config of an attestation manifest, as BuildKit writes it (platform unknown/unknown).
    static func attestationConfig(diffID: String) throws -> [UInt8] {
        try self.encode([
            "architecture": "unknown",
            "os": "unknown",
            "config": [:] as [String: Any],
            "rootfs": ["type": "layers", "diff_ids": [diffID]],
        ])
    }
}

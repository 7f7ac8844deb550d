import Codec
import Foundation
import Stores
import TestSupport

/// Writes image archives the way other tools do, from images built by `ImageBuilder`: `docker save` before
/// Docker 25 (`<id>/layer.tar` uncompressed, `<id>/json`, `<id>/VERSION`, `<config-hex>.json`, `repositories`,
/// `manifest.json` last), and hand-made tars for hostile cases.
enum ArchiveWriter {
    struct Member {
        var name: String
        var bytes: [UInt8] = []
        var kind: TarHeader.Kind = .file
        var link = ""
        /// A size field that differs from the bytes written (a lying header).
        var claimedSize: Int64?
    }

    static func tar(_ members: [Member], to path: String, trailer: Bool = true) throws {
        var out: [UInt8] = []
        for m in members {
            let size = m.claimedSize ?? Int64(m.bytes.count)
            let header = TarHeader(name: m.name, size: m.kind == .file ? size : 0, kind: m.kind, linkName: m.link)
            out += header.encode() + m.bytes
            out += [UInt8](repeating: 0, count: (512 - m.bytes.count % 512) % 512)
        }
        if trailer { out += [UInt8](repeating: 0, count: 1024) }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    /// The layer's tar, as `docker save` stores it (uncompressed).
    static func uncompressed(_ layer: BuiltImage.Layer, of image: BuiltImage) throws -> [UInt8] {
        let sink = MemorySink()
        _ = try Pipeline(decoding: .gzip).runBlocking(from: try FileSource(path: image.path(of: layer.blob.digest).path), to: sink)
        return sink.bytes
    }

    static func config(_ image: BuiltImage) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: image.path(of: image.manifests[0].config.digest)))
    }

    /// An old-style `docker save` of single-platform images, each under its RepoTags; layers shared by images
    /// (same DiffID and parent) are stored once, as Docker does.
    static func dockerSave(_ images: [(BuiltImage, [String])], to path: String) throws {
        var members: [Member] = []
        var written = Set<String>()
        var entries: [[String: Any]] = []
        var repositories: [String: [String: String]] = [:]
        for (image, tags) in images {
            var parent = ""
            var paths: [String] = []
            for layer in image.manifests[0].layers {
                let id = SHA256.hexDigest(Array((parent + " " + layer.diffID).utf8))
                if written.insert(id).inserted {
                    var json: [String: Any] = ["id": id, "created": "2024-03-01T00:00:00Z"]
                    if !parent.isEmpty { json["parent"] = parent }
                    members.append(Member(name: "\(id)/", kind: .directory))
                    members.append(Member(name: "\(id)/VERSION", bytes: Array("1.0".utf8)))
                    members.append(Member(name: "\(id)/json", bytes: [UInt8](try JSONSerialization.data(withJSONObject: json))))
                    members.append(Member(name: "\(id)/layer.tar", bytes: try Self.uncompressed(layer, of: image)))
                }
                paths.append("\(id)/layer.tar")
                parent = id
            }
            let configName = image.manifests[0].config.hex + ".json"
            if written.insert(configName).inserted {
                members.append(Member(name: configName, bytes: try Self.config(image)))
            }
            entries.append(["Config": configName, "RepoTags": tags.isEmpty ? NSNull() : tags, "Layers": paths])
            for tag in tags {
                let colon = tag.lastIndex(of: ":")!
                repositories[String(tag[..<colon]), default: [:]][String(tag[tag.index(after: colon)...])] = parent
            }
        }
        members.append(Member(name: "repositories", bytes: [UInt8](try JSONSerialization.data(withJSONObject: repositories))))
        members.append(Member(name: "manifest.json", bytes: [UInt8](try JSONSerialization.data(withJSONObject: entries))))
        try self.tar(members, to: path)
    }
}

/// What a registry serves for an image, read by skopeo (an independent client).
enum Served {
    static func configDigest(_ reference: String) async throws -> String {
        let r = try await ProcessRunner.check(["skopeo", "inspect", "--config", "--raw", "--tls-verify=false", reference])
        return "sha256:" + Codec_sha256(r.stdout)
    }

    static func diffIDs(_ reference: String) async throws -> [String] {
        let r = try await ProcessRunner.check(["skopeo", "inspect", "--config", "--raw", "--tls-verify=false", reference])
        let config = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]
        return ((config?["rootfs"] as? [String: Any])?["diff_ids"] as? [String]) ?? []
    }

    /// Copies the image to a `dir:` with skopeo (which checks every blob digest), then gunzips each layer with
    /// `gzip -dc` and returns the sha256 of each, in manifest order: the DiffIDs the layers really have.
    static func layerDiffIDs(_ reference: String, work: TemporaryDirectory) async throws -> [String] {
        let dir = work.appending("dir-\(UUID().uuidString.prefix(8))").path
        try await ProcessRunner.check(["skopeo", "copy", "--src-tls-verify=false", reference, "dir:" + dir])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as? [String: Any]
        let layers = (manifest?["layers"] as? [[String: Any]]) ?? []
        var out: [String] = []
        for layer in layers {
            let hex = String((layer["digest"] as! String).dropFirst("sha256:".count))
            let r = try await ProcessRunner.check(["sh", "-c", "gzip -dc \"$1\" | sha256sum", "sh", dir + "/" + hex])
            out.append("sha256:" + String(r.stdoutString.prefix(64)))
        }
        return out
    }
}

import Dispatch
import Foundation
import Synchronization

/// Generates real images (tar+gzip layers, configs with DiffIDs, manifests, indexes) into OCI layout directories.
public enum ImageBuilder {
    /// Writes the image described by `spec` into the OCI layout at `layout` (created if needed) under `tag`.
    ///
    /// Layers are streamed to disk and hashed while written, several at once (one per core), so a multi-GB image
    /// needs a few MiB of memory. Blocks the calling thread until done.
    /// - Parameters:
    ///   - spec: what to generate; the same spec gives the same digests.
    ///   - layout: an OCI layout directory; other images already in it are kept.
    ///   - tag: the `org.opencontainers.image.ref.name` to list the image under in `index.json`.
    public static func write(_ spec: ImageSpec, to layout: URL, tag: String = "latest") throws -> BuiltImage {
        if spec.attestation && spec.platforms.isEmpty {
            throw TestSupportError("attestations need an index: give the spec at least one platform")
        }
        let blobs = try OCILayoutIndex.prepare(layout)
        let types = spec.mediaTypes
        let platforms = spec.platforms.isEmpty ? ["linux/amd64"] : spec.platforms
        for platform in platforms { _ = try ImageJSON.platform(platform) }

        let layers = try self.writeLayers(spec, platforms: platforms, into: blobs)

        var manifests: [BuiltImage.Manifest] = []
        for (p, platform) in platforms.enumerated() {
            let configJSON = try ImageJSON.config(platform: platform, diffIDs: layers[p].map(\.diffID), seed: spec.seed)
            let config = try self.writeBlob(configJSON, mediaType: types.config, in: blobs)
            let manifest = try self.writeBlob(
                try ImageJSON.manifest(
                    mediaType: types.manifest, config: config, layers: layers[p].map { ImageJSON.descriptor($0.blob) }),
                mediaType: types.manifest, in: blobs)
            manifests.append(
                BuiltImage.Manifest(
                    platform: platform, isAttestation: false, manifest: manifest, config: config, layers: layers[p]))
        }

        if spec.attestation {
            for image in manifests {
                manifests.append(try self.writeAttestation(for: image, in: blobs))
            }
        }

        let top: BuiltImage.Blob
        if spec.platforms.isEmpty {
            top = manifests[0].manifest
        } else {
            let entries = try manifests.map(self.indexEntry)
            top = try self.writeBlob(
                try ImageJSON.index(mediaType: types.index, manifests: entries), mediaType: types.index, in: blobs)
        }
        try OCILayoutIndex.add(top, tag: tag, to: layout)

        var all: [BuiltImage.Blob] = [top]
        for image in manifests {
            all.append(image.manifest)
            all.append(image.config)
            all += image.layers.map(\.blob)
        }
        var seen = Set<String>()
        all = all.filter { seen.insert($0.digest).inserted }
        return BuiltImage(layout: layout, tag: tag, top: top, manifests: manifests, blobs: all)
    }

    /// Generates every layer of every platform, spread over the cores.
    private static func writeLayers(
        _ spec: ImageSpec, platforms: [String], into blobs: URL
    ) throws -> [[BuiltImage.Layer]] {
        let jobs = platforms.indices.flatMap { p in spec.layers.indices.map { (p, $0) } }
        let results = Mutex<[Int: Result<BuiltImage.Layer, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: jobs.count) { job in
            let (p, l) = jobs[job]
            let layerSpec = spec.layers[l]
            let fileName = "layer-\(p)-\(l)." + (layerSpec.compressible ? "log" : "bin")
            let result = Result {
                let written = try LayerWriter.write(
                    fileName: fileName, spec: layerSpec,
                    seed: WyRand.mix(spec.seed, UInt64(p), UInt64(l)), into: blobs)
                return BuiltImage.Layer(
                    blob: BuiltImage.Blob(digest: written.digest, size: written.size, mediaType: spec.mediaTypes.layer),
                    diffID: written.diffID, uncompressedSize: written.uncompressedSize, fileName: fileName)
            }
            results.withLock { $0[job] = result }
        }
        let collected = results.withLock { $0 }
        var layers = platforms.map { _ in [BuiltImage.Layer]() }
        for (job, (p, _)) in jobs.enumerated() {
            layers[p].append(try collected[job]!.get())
        }
        return layers
    }

    /// An attestation manifest about `image`, as BuildKit attaches them: OCI-typed whatever the image's
    /// media types, one uncompressed in-toto layer, platform unknown/unknown.
    private static func writeAttestation(for image: BuiltImage.Manifest, in blobs: URL) throws -> BuiltImage.Manifest {
        let types = ImageSpec.MediaTypes.oci
        let statement = try ImageJSON.attestationStatement(subject: image.manifest.digest, platform: image.platform)
        let layerBlob = try self.writeBlob(statement, mediaType: "application/vnd.in-toto+json", in: blobs)
        let layer = BuiltImage.Layer(
            blob: layerBlob, diffID: layerBlob.digest, uncompressedSize: layerBlob.size, fileName: "")
        let config = try self.writeBlob(
            try ImageJSON.attestationConfig(diffID: layerBlob.digest), mediaType: types.config, in: blobs)
        let manifest = try self.writeBlob(
            try ImageJSON.manifest(
                mediaType: types.manifest, config: config,
                layers: [
                    ImageJSON.descriptor(
                        layerBlob, extra: ["annotations": ["in-toto.io/predicate-type": "https://spdx.dev/Document"]])
                ]),
            mediaType: types.manifest, in: blobs)
        return BuiltImage.Manifest(
            platform: "unknown/unknown", isAttestation: true, manifest: manifest, config: config, layers: [layer],
            attestationSubject: image.manifest.digest)
    }

    private static func indexEntry(_ entry: BuiltImage.Manifest) throws -> [String: Any] {
        var extra: [String: Any] = ["platform": try ImageJSON.platform(entry.platform)]
        if let subject = entry.attestationSubject {
            extra["annotations"] = [
                ImageJSON.referenceDigestAnnotation: subject,
                ImageJSON.referenceTypeAnnotation: "attestation-manifest",
            ]
        }
        return ImageJSON.descriptor(entry.manifest, extra: extra)
    }

    private static func writeBlob(_ bytes: [UInt8], mediaType: String, in blobs: URL) throws -> BuiltImage.Blob {
        BuiltImage.Blob(digest: try BlobFile.write(bytes, in: blobs), size: bytes.count, mediaType: mediaType)
    }
}

import OCI

/// Digests and manifest bodies shaped like what registries really serve, kept small.
enum Fixtures {
    static let hexA = "b60e2d3ac892082ca879ec2938393237d66dad732af5b36bf00b80eb81927996"
    static let hexB = "2074347d24b55a52986cbb96d38b1de789b4e88102cfd45d7279fd0bdee31dd5"
    static let hexC = "b09a56ed9c066ceec7cdd2ec086d99232404dd9ed975c551f0f5cd908bbbe9ea"
    static let hexD = "3146d759044ef6659c51377ebd5b4280af0b8b4d1dd4049e5a25b0815a1e3bf9"
    static let hexE = "d00dab94f3370d0788225e0330d16963806e09b0de388a01f5dc4ef32ddeae23"
    static let hexF = "c7c50ee23d926ecc5dc2173d771d0634ffb058a5d6e2bb56a728b4940f3d9f95"
    static let hexG = "0b38e09f98244418d6d9f6d9438ee558301ec15bcfe8509a23a035e7ead98cfc"

    static func digest(_ hex: String) -> Digest {
        try! Digest(sha256Hex: hex)
    }

    /// An OCI image manifest as BuildKit pushes it.
    static let ociManifest = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:\(hexA)",
            "size": 1472
          },
          "layers": [
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:\(hexB)",
              "size": 29124534
            },
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
              "digest": "sha256:\(hexC)",
              "size": 628
            }
          ],
          "annotations": {
            "org.opencontainers.image.created": "2025-05-01T12:00:00Z"
          }
        }
        """

    /// An OCI index with two images and BuildKit's attestation manifest for the first.
    static let ociIndexWithAttestation = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "manifests": [
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(hexA)",
              "size": 1022,
              "platform": { "architecture": "amd64", "os": "linux" }
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(hexB)",
              "size": 1022,
              "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:\(hexC)",
              "size": 566,
              "annotations": {
                "vnd.docker.reference.digest": "sha256:\(hexA)",
                "vnd.docker.reference.type": "attestation-manifest"
              },
              "platform": { "architecture": "unknown", "os": "unknown" }
            }
          ]
        }
        """

    /// A Docker v2 schema 2 manifest, as `docker push` writes it.
    static let dockerManifest = """
        {
           "schemaVersion": 2,
           "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
           "config": {
              "mediaType": "application/vnd.docker.container.image.v1+json",
              "size": 7023,
              "digest": "sha256:\(hexD)"
           },
           "layers": [
              {
                 "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                 "size": 32654,
                 "digest": "sha256:\(hexE)"
              },
              {
                 "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                 "size": 16724,
                 "digest": "sha256:\(hexF)",
                 "urls": ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:\(hexF)"]
              }
           ]
        }
        """

    /// A Docker manifest list with arm variants, as Docker Hub serves older official images.
    static let dockerManifestList = """
        {
          "manifests": [
            {
              "digest": "sha256:\(hexA)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": { "architecture": "amd64", "os": "linux" },
              "size": 528
            },
            {
              "digest": "sha256:\(hexB)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": { "architecture": "arm", "os": "linux", "variant": "v6" },
              "size": 528
            },
            {
              "digest": "sha256:\(hexC)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": { "architecture": "arm", "os": "linux", "variant": "v7" },
              "size": 528
            },
            {
              "digest": "sha256:\(hexD)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" },
              "size": 528
            },
            {
              "digest": "sha256:\(hexE)",
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "platform": {
                "architecture": "amd64",
                "os": "windows",
                "os.version": "10.0.17763.6532",
                "os.features": ["win32k"]
              },
              "size": 1125
            }
          ],
          "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
          "schemaVersion": 2
        }
        """

    /// A signed Docker schema 1 manifest (deprecated; must be refused).
    static let schema1Manifest = """
        {
           "schemaVersion": 1,
           "name": "library/hello-world",
           "tag": "latest",
           "architecture": "amd64",
           "fsLayers": [
              { "blobSum": "sha256:\(hexA)" }
           ],
           "history": [
              { "v1Compatibility": "{\\"id\\":\\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\\"}" }
           ],
           "signatures": [
              {
                 "header": { "jwk": { "crv": "P-256", "kty": "EC" }, "alg": "ES256" },
                 "signature": "X",
                 "protected": "Y"
              }
           ]
        }
        """

    /// The manifests above by name, so parameterised tests print a name rather than the JSON.
    static let named: [String: String] = [
        "ociManifest": ociManifest,
        "ociIndexWithAttestation": ociIndexWithAttestation,
        "dockerManifest": dockerManifest,
        "dockerManifestList": dockerManifestList,
        "schema1Manifest": schema1Manifest,
        "ociManifestWithoutMediaType": ociManifestWithoutMediaType,
        "ociIndexWithoutMediaType": ociIndexWithoutMediaType,
        "artifactManifest": artifactManifest,
    ]

    /// Says it is a Docker v2 manifest; used served as an OCI manifest to check disagreement is caught.
    static let mislabelled = dockerManifest

    /// An OCI manifest with no `mediaType` field, as older tools wrote (allowed by the spec).
    static let ociManifestWithoutMediaType = """
        {"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\(hexA)","size":2},"layers":[]}
        """

    /// An OCI index with no `mediaType` field.
    static let ociIndexWithoutMediaType = """
        {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(hexB)","size":400,"platform":{"os":"linux","architecture":"riscv64"}}]}
        """

    /// A signature artifact (cosign style) pointing at an image through `subject`.
    static let artifactManifest = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
          "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2
          },
          "layers": [
            {
              "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
              "digest": "sha256:\(hexG)",
              "size": 242
            }
          ],
          "subject": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:\(hexA)",
            "size": 1609
          }
        }
        """
}

extension String {
    var bytes: [UInt8] { Array(self.utf8) }
}

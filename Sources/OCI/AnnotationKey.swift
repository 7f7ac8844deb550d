/// Annotation keys Ferry reads or writes.
public enum AnnotationKey {
    /// The name of an `index.json` entry in an OCI image layout (image-layout.md).
    public static let refName = "org.opencontainers.image.ref.name"
    /// The full image name containerd and Docker 25+ write; read before `refName`, which they set to the tag only.
    public static let containerdImageName = "io.containerd.image.name"
    /// BuildKit's marker on attestation manifests in an index (value `attestation-manifest`).
    public static let dockerReferenceType = "vnd.docker.reference.type"
    /// The digest of the image an attestation manifest describes.
    public static let dockerReferenceDigest = "vnd.docker.reference.digest"
}

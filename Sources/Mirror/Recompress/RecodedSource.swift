import Glibc
import OCI

/// The blobs of a recompressed image: recoded layers from their files, everything else from the original source.
struct RecodedSource: PushSource {
    /// New layer digest → its recoded file.
    let files: [Digest: String]
    let fallback: any PushSource

    var description: String { self.fallback.description }
    var fetchesOnDemand: Bool { self.fallback.fetchesOnDemand }

    func region(of digest: Digest) -> BlobRegion? {
        if let path = self.files[digest] { return Self.whole(path) }
        return self.fallback.region(of: digest)
    }

    func lend<T: Sendable>(_ blob: Descriptor, of image: Reference, _ body: (BlobRegion) async throws -> T) async throws -> T {
        if let path = self.files[blob.digest], let region = Self.whole(path) { return try await body(region) }
        return try await self.fallback.lend(blob, of: image, body)
    }

    private static func whole(_ path: String) -> BlobRegion? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return BlobRegion(path: path, offset: 0, size: Int64(st.st_size))
    }
}
